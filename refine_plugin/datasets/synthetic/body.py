"""An articulated 3D body with COCO's 17 keypoints, posed within joint-angle limits.

Body frame: x = the person's left, y = up, z = the direction the person faces; the pelvis is the
origin and the body is 1 unit tall. The camera looks along -z of its own frame (x right, y up, z
towards the viewer), so a person facing the camera has their left side on the image's right: the
image alone never says which side is left, the head (face or hair) and depth order do.
"""
from dataclasses import dataclass

import numpy as np

COCO_KEYPOINT_NAMES = (
    'nose', 'left_eye', 'right_eye', 'left_ear', 'right_ear', 'left_shoulder',
    'right_shoulder', 'left_elbow', 'right_elbow', 'left_wrist', 'right_wrist', 'left_hip',
    'right_hip', 'left_knee', 'right_knee', 'left_ankle', 'right_ankle')
# COCO's own skeleton, 1-based as in its annotation files.
COCO_SKELETON = [[16, 14], [14, 12], [17, 15], [15, 13], [12, 13], [6, 12], [7, 13], [6, 7],
                 [6, 8], [7, 9], [8, 10], [9, 11], [2, 3], [1, 2], [1, 3], [2, 4], [3, 5], [4, 6],
                 [5, 7]]
KPT = {name: i for i, name in enumerate(COCO_KEYPOINT_NAMES)}

# Mean segment lengths as fractions of body height (adult anthropometry, rounded).
MEAN_PROPORTIONS = dict(
    head_radius=0.062, neck=0.045, torso=0.30, shoulder_half_width=0.115,
    hip_half_width=0.085, upper_arm=0.17, forearm=0.155, thigh=0.245, shin=0.245)

# Each segment length of a person varies by up to this fraction around the mean.
PROPORTION_SPREAD = 0.12
# The camera looks at a person from up to this many degrees above or below.
CAMERA_PITCH_LIMIT = 15

# Joint-angle limits in degrees; arm/leg angles are given for the left side and mirrored.
ANGLE_LIMITS = dict(
    lean=(-12, 12), side_lean=(-8, 8), head_yaw=(-70, 70), head_pitch=(-25, 20),
    shoulder_flexion=(-40, 160), shoulder_abduction=(0, 110), upper_arm_twist=(-50, 30),
    elbow=(0, 145), hip_flexion=(-25, 95), hip_abduction=(-5, 35), knee=(0, 130))

# Face points on the unit head sphere (head frame, same axes as the body frame).
_FACE_POINTS = dict(
    nose=(0.0, -0.2, 1.08), left_eye=(0.36, 0.18, 0.9), right_eye=(-0.36, 0.18, 0.9),
    left_ear=(1.0, 0.0, -0.08), right_ear=(-1.0, 0.0, -0.08))


def rot_x(deg):
    """Rotation about x; positive turns +y towards +z."""
    c, s = np.cos(np.radians(deg)), np.sin(np.radians(deg))
    return np.array([[1, 0, 0], [0, c, -s], [0, s, c]])


def rot_y(deg):
    """Rotation about y; positive turns +z towards +x."""
    c, s = np.cos(np.radians(deg)), np.sin(np.radians(deg))
    return np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])


def rot_z(deg):
    """Rotation about z; positive turns +x towards +y."""
    c, s = np.cos(np.radians(deg)), np.sin(np.radians(deg))
    return np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])


DOWN = np.array([0.0, -1.0, 0.0])


@dataclass
class PosedBody:
    """A posed body in camera coordinates (orthographic, 1 unit = body height).

    joints: (17, 3) COCO keypoints; face_normals: (17, 3) outward normals of the five face points
    (zero for body joints); head_rotation: head frame -> camera frame; forward: the direction the
    pelvis (and the feet) face; proportions: segment sizes.
    """
    joints: np.ndarray
    face_normals: np.ndarray
    head_center: np.ndarray
    head_rotation: np.ndarray
    forward: np.ndarray
    proportions: dict


def sample_proportions(rng):
    """Segment lengths of one person: each varies by up to ``PROPORTION_SPREAD`` around the mean."""
    return {k: v * rng.uniform(1 - PROPORTION_SPREAD, 1 + PROPORTION_SPREAD)
            for k, v in MEAN_PROPORTIONS.items()}


# Relaxed joint angles: people in photos mostly stand, walk or gesture near them, so COCO's poses
# cluster there. A pose model learns that prior too, and uses it where a joint is hidden or small.
RELAXED_ANGLES = dict(
    lean=0, side_lean=0, head_yaw=0, head_pitch=0, shoulder_flexion=10, shoulder_abduction=15,
    upper_arm_twist=0, elbow=20, hip_flexion=5, hip_abduction=5, knee=10)
# Each angle is, with this probability, anywhere within its limits (a wave, a kick, a sitter);
# otherwise near its relaxed value with a spread of a sixth of its range.
FREE_ANGLE_PROB = 0.2


def _sample_angle(rng, name):
    lo, hi = ANGLE_LIMITS[name]
    if rng.random() < FREE_ANGLE_PROB:
        return rng.uniform(lo, hi)
    return float(np.clip(rng.normal(RELAXED_ANGLES[name], (hi - lo) / 6), lo, hi))


def sample_angles(rng):
    """Joint angles within ANGLE_LIMITS, each independently near its relaxed value or free; limb
    angles are drawn per side."""
    angles = {}
    for name in ANGLE_LIMITS:
        if name in ('lean', 'side_lean', 'head_yaw', 'head_pitch'):
            angles[name] = _sample_angle(rng, name)
        else:
            angles[name] = (_sample_angle(rng, name), _sample_angle(rng, name))
    return angles


def _limb(root, rotation, bend, first_len, second_len):
    """Two-segment limb hanging from ``root``; ``bend`` rotates the second segment about x."""
    middle = root + rotation @ DOWN * first_len
    end = middle + rotation @ rot_x(bend) @ DOWN * second_len
    return middle, end


def pose_body(props, angles, yaw, camera_pitch, roll):
    """Forward kinematics of the body, then the view: ``yaw`` turns the person about the vertical
    axis (0 = facing the camera), ``camera_pitch`` and ``roll`` tilt the view."""
    joints = np.zeros((17, 3))
    trunk = rot_z(angles['side_lean']) @ rot_x(-angles['lean'])
    up, left = trunk @ np.array([0, 1.0, 0]), trunk @ np.array([1.0, 0, 0])
    shoulder_mid = up * props['torso']
    for side, sign in (('left', 1), ('right', -1)):
        i = 0 if sign > 0 else 1
        shoulder = shoulder_mid + sign * left * props['shoulder_half_width']
        arm_rot = (trunk @ rot_z(sign * angles['shoulder_abduction'][i])
                   @ rot_x(-angles['shoulder_flexion'][i])
                   @ rot_y(sign * angles['upper_arm_twist'][i]))
        # the elbow bends the forearm forwards, the knee bends the shin backwards
        elbow, wrist = _limb(shoulder, arm_rot, -angles['elbow'][i], props['upper_arm'],
                             props['forearm'])
        hip = np.array([sign * props['hip_half_width'], 0, 0])
        leg_rot = rot_z(sign * angles['hip_abduction'][i]) @ rot_x(-angles['hip_flexion'][i])
        knee, ankle = _limb(hip, leg_rot, angles['knee'][i], props['thigh'], props['shin'])
        for joint, point in (('shoulder', shoulder), ('elbow', elbow), ('wrist', wrist),
                             ('hip', hip), ('knee', knee), ('ankle', ankle)):
            joints[KPT[f'{side}_{joint}']] = point

    head_rot = trunk @ rot_y(angles['head_yaw']) @ rot_x(-angles['head_pitch'])
    head_center = shoulder_mid + up * (props['neck'] + props['head_radius'])
    face_normals = np.zeros((17, 3))
    for name, point in _FACE_POINTS.items():
        local = np.asarray(point)
        joints[KPT[name]] = head_center + head_rot @ local * props['head_radius']
        face_normals[KPT[name]] = head_rot @ (local / np.linalg.norm(local))

    view = rot_z(roll) @ rot_x(camera_pitch) @ rot_y(yaw)
    return PosedBody(
        joints=joints @ view.T, face_normals=face_normals @ view.T,
        head_center=view @ head_center, head_rotation=view @ head_rot,
        forward=view @ np.array([0, 0, 1.0]), proportions=props)


# Viewpoints: people in photos mostly face the camera, so their left is on the image's right more
# often than not (a prior a pose model learns, as on COCO); the rest are seen from any side.
FACING_CAMERA_PROB = 0.5
FACING_CAMERA_SPREAD = 30  # degrees of yaw around the frontal view


def sample_yaw(rng):
    """The person's yaw in degrees: near frontal with FACING_CAMERA_PROB, else any."""
    if rng.random() < FACING_CAMERA_PROB:
        return rng.normal(0, FACING_CAMERA_SPREAD)
    return rng.uniform(0, 360)


def sample_body(rng):
    """A random person: proportions, pose and viewpoint (front, back and profile)."""
    return pose_body(
        sample_proportions(rng), sample_angles(rng), yaw=sample_yaw(rng),
        camera_pitch=rng.uniform(-CAMERA_PITCH_LIMIT, CAMERA_PITCH_LIMIT),
        roll=rng.uniform(-10, 10))

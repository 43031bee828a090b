"""Draw a posed body as body parts (capsules, a torso polygon and a shaded head with face and hair).

Every part is drawn twice: anti-aliased into the image, and hard-edged into an integer label map
(one id per person and part) that later decides which joints are visible. Parts are painted far to
near, so self-occlusion (an arm behind the torso) comes out of the same label map as occlusion by
other people.
"""
from dataclasses import dataclass, field

import cv2
import numpy as np

from .background import SUBPIXEL_BITS, fixed_point, random_color
from .body import KPT

PART_NAMES = ('torso', 'neck', 'head', 'left_upper_arm', 'left_forearm', 'right_upper_arm',
              'right_forearm', 'left_thigh', 'left_shin', 'right_thigh', 'right_shin')
PART = {name: i for i, name in enumerate(PART_NAMES)}
LABELS_PER_PERSON = 16  # label id = person * LABELS_PER_PERSON + part + 1; 0 = background

# The parts whose pixels make a body joint visible (a joint on the boundary of two parts).
JOINT_PARTS = {
    'left_shoulder': ('torso', 'left_upper_arm'), 'right_shoulder': ('torso', 'right_upper_arm'),
    'left_elbow': ('left_upper_arm', 'left_forearm'),
    'right_elbow': ('right_upper_arm', 'right_forearm'),
    'left_wrist': ('left_forearm',), 'right_wrist': ('right_forearm',),
    'left_hip': ('torso', 'left_thigh'), 'right_hip': ('torso', 'right_thigh'),
    'left_knee': ('left_thigh', 'left_shin'), 'right_knee': ('right_thigh', 'right_shin'),
    'left_ankle': ('left_shin',), 'right_ankle': ('right_shin',),
}
# Limb widths as fractions of body height.
_WIDTH = dict(upper_arm=0.055, forearm=0.045, thigh=0.085, shin=0.062, neck=0.05)
_LIGHT = np.array([0.35, 0.55, 0.75]) / np.linalg.norm([0.35, 0.55, 0.75])
# The shirt's front carries a collar and a chest print (as real shirts often do) when the torso
# faces the camera at least this much (z of its forward direction); the back is plain. This is the
# front/back cue that small people keep: their faces are a few pixels.
_SHIRT_FRONT_FACING = 0.3


@dataclass
class Style:
    """One person's colours (BGR); left and right always share them."""
    skin: tuple
    hair: tuple
    shirt: tuple
    shirt_print: tuple
    pants: tuple
    shoes: tuple
    forearm: tuple
    shin: tuple


def sample_style(rng):
    hsv_skin = np.uint8([[[rng.integers(5, 20), rng.integers(60, 170), rng.integers(90, 245)]]])
    skin = tuple(int(c) for c in cv2.cvtColor(hsv_skin, cv2.COLOR_HSV2BGR)[0, 0])
    dark = rng.random() < 0.7
    hair = tuple(int(c * (0.35 if dark else 1)) for c in random_color(rng))
    shirt, pants = random_color(rng), random_color(rng)
    shirt_print = tuple(255 - c for c in shirt)
    return Style(skin=skin, hair=hair, shirt=shirt, shirt_print=shirt_print, pants=pants,
                 shoes=tuple(int(c * 0.5) for c in random_color(rng)),
                 forearm=shirt if rng.random() < 0.5 else skin,
                 shin=pants if rng.random() < 0.7 else skin)


@dataclass
class Part:
    """Primitives of one body part: ('poly', points), ('line', p0, p1, thickness),
    ('circle', centre, radius) or ('head', centre, radius), each with a colour."""
    part: int
    depth: float
    shapes: list = field(default_factory=list)


def _line(p0, p1, width, color):
    return ('line', p0, p1, max(1, int(round(width))), color)


def build_parts(body, height, origin, style):
    """Project ``body`` (1 unit tall) to pixels at ``height`` pixels with the pelvis at ``origin``;
    returns the parts and the (17, 2) projected keypoints."""
    def project(p):
        return np.asarray(origin) + height * np.array([p[0], -p[1]])

    kpts = np.array([project(p) for p in body.joints])
    z = body.joints[:, 2]
    k = {name: kpts[i] for name, i in KPT.items()}
    parts = []

    shoulder_mid = (k['left_shoulder'] + k['right_shoulder']) / 2
    hip_mid = (k['left_hip'] + k['right_hip']) / 2
    torso = Part(PART['torso'], z[[5, 6, 11, 12]].mean())
    torso.shapes += [
        ('poly', np.stack([k['left_shoulder'], k['right_shoulder'], k['right_hip'],
                           k['left_hip']]), style.shirt),
        _line(shoulder_mid, hip_mid, 0.13 * height, style.shirt),
        _line(k['left_shoulder'], k['right_shoulder'], 0.06 * height, style.shirt),
        _line(k['left_hip'], k['right_hip'], 0.09 * height, style.pants)]
    if body.forward[2] > _SHIRT_FRONT_FACING:
        chest = shoulder_mid + 0.4 * (hip_mid - shoulder_mid)
        collar = shoulder_mid + 0.15 * (hip_mid - shoulder_mid)
        for shoulder in (k['left_shoulder'], k['right_shoulder']):
            torso.shapes.append(_line(shoulder_mid + 0.35 * (shoulder - shoulder_mid), collar,
                                      0.012 * height, style.shirt_print))
        torso.shapes.append(('circle', chest, 0.035 * height, style.shirt_print))
    parts.append(torso)

    head_c = project(body.head_center)
    head_r = body.proportions['head_radius'] * height
    neck = Part(PART['neck'], (z[5] + z[6]) / 2 + 1e-3)
    neck.shapes.append(_line(shoulder_mid, head_c, _WIDTH['neck'] * height, style.skin))
    parts.append(neck)

    head = Part(PART['head'], body.head_center[2])
    head.shapes.append(('head', head_c, head_r, body.head_rotation, style))
    for name, radius, color, min_facing in (
            ('left_ear', 0.28, style.skin, -0.3), ('right_ear', 0.28, style.skin, -0.3),
            ('left_eye', 0.16, (30, 25, 25), 0.15), ('right_eye', 0.16, (30, 25, 25), 0.15),
            ('nose', 0.2, tuple(int(c * 0.8) for c in style.skin), -0.05)):
        if body.face_normals[KPT[name], 2] > min_facing:
            head.shapes.append(('circle', k[name], radius * head_r, color))
    parts.append(head)

    for side in ('left', 'right'):
        for upper, lower, joints, color_up, color_low in (
                ('upper_arm', 'forearm', ('shoulder', 'elbow', 'wrist'), style.shirt,
                 style.forearm),
                ('thigh', 'shin', ('hip', 'knee', 'ankle'), style.pants, style.shin)):
            a, b, c = (KPT[f'{side}_{j}'] for j in joints)
            up = Part(PART[f'{side}_{upper}'], (z[a] + z[b]) / 2)
            up.shapes.append(_line(kpts[a], kpts[b], _WIDTH[upper] * height, color_up))
            low = Part(PART[f'{side}_{lower}'], (z[b] + z[c]) / 2)
            low.shapes.append(_line(kpts[b], kpts[c], _WIDTH[lower] * height, color_low))
            if lower == 'forearm':
                direction = (kpts[c] - kpts[b]) / (np.linalg.norm(kpts[c] - kpts[b]) + 1e-6)
                low.shapes.append(('circle', kpts[c] + direction * 0.025 * height,
                                   0.028 * height, style.skin))
            else:
                toe = body.joints[c] + body.forward * 0.07 + np.array([0, -0.02, 0])
                low.shapes.append(_line(kpts[c], project(toe), 0.045 * height, style.shoes))
            parts += [up, low]
    return parts, kpts


def _draw_shaded_head(img, centre, radius, head_rotation, style):
    """A lit sphere: hair where the surface faces backwards or upwards in the head's own frame,
    skin elsewhere; this is what shows which way the person faces."""
    h, w = img.shape[:2]
    x0, x1 = int(max(0, np.floor(centre[0] - radius - 1))), int(min(w, centre[0] + radius + 2))
    y0, y1 = int(max(0, np.floor(centre[1] - radius - 1))), int(min(h, centre[1] + radius + 2))
    if x0 >= x1 or y0 >= y1:
        return
    ys, xs = np.mgrid[y0:y1, x0:x1].astype(np.float64)
    dx, dy = (xs - centre[0]) / radius, (ys - centre[1]) / radius
    dist = np.sqrt(dx ** 2 + dy ** 2)
    coverage = np.clip((1 - dist) * radius + 0.5, 0, 1)[..., None]
    normal = np.stack([dx, -dy, np.sqrt(np.clip(1 - dx ** 2 - dy ** 2, 0, 1))], -1)
    local = normal @ head_rotation  # camera -> head frame
    is_hair = (local[..., 2] < -0.1) | (local[..., 1] > 0.5)
    color = np.where(is_hair[..., None], np.float64(style.hair), np.float64(style.skin))
    light = 0.55 + 0.45 * np.clip(normal @ _LIGHT, 0, 1)[..., None]
    patch = img[y0:y1, x0:x1].astype(np.float64)
    img[y0:y1, x0:x1] = (patch * (1 - coverage) + color * light * coverage).astype(np.uint8)


def draw_part(img, label_map, part, label):
    """Paint ``part`` into the image (anti-aliased, its colours) and into ``label_map`` (hard edges,
    ``label``); either canvas may be None."""
    for kind, *geom, color in part.shapes:
        for canvas, value, line_type in ((img, color, cv2.LINE_AA), (label_map, label, cv2.LINE_8)):
            if canvas is None:
                continue
            if kind == 'head' and canvas is img:
                _draw_shaded_head(img, geom[0], geom[1], geom[2], color)
            elif kind in ('head', 'circle'):
                radius = int(round(geom[1] * (1 << SUBPIXEL_BITS)))
                cv2.circle(canvas, tuple(fixed_point(geom[0])), max(radius, 1), value, -1,
                           line_type, SUBPIXEL_BITS)
            elif kind == 'poly':
                cv2.fillPoly(canvas, [fixed_point(geom[0])], value, line_type, SUBPIXEL_BITS)
            else:
                cv2.line(canvas, tuple(fixed_point(geom[0])), tuple(fixed_point(geom[1])), value,
                         geom[2], line_type, SUBPIXEL_BITS)

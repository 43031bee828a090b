"""One synthetic image with several people and their COCO keypoint annotations.

Visibility follows COCO: v=2 a joint whose own body part is on top at its pixel; v=1 a labelled
joint hidden by another person, by its own body or by a foreground object (and face points turned
slightly away); v=0 outside the image, or a face point on the far side of the head (COCO's
annotators do not label the eyes of a person seen from behind). ``area`` is the pixel area of the
person's silhouette, so OKS tolerances scale as they do on COCO's segmentation areas.
"""
import cv2
import numpy as np

from .background import draw_occluder, finish_image, make_background
from .body import KPT, sample_body
from .render import JOINT_PARTS, LABELS_PER_PERSON, PART, build_parts, draw_part, sample_style

OCCLUDER_LABEL = np.iinfo(np.uint16).max
# Facing thresholds (z of the outward normal in camera space) of the face points: above ``seen``
# the point is drawn and can be visible; between ``labelled`` and ``seen`` it is occluded (v=1).
_FACE_FACING = dict(nose=(-0.05, -0.6), left_eye=(0.15, -0.5), right_eye=(0.15, -0.5),
                    left_ear=(-0.3, -0.7), right_ear=(-0.3, -0.7))


def _place_people(rng, num_people, width, height, height_range):
    """Pelvis positions and pixel heights; heights are log-uniform so every scale is as common."""
    heights = np.exp(rng.uniform(np.log(height_range[0]), np.log(height_range[1]), num_people))
    origins = np.stack([rng.uniform(0.05, 0.95, num_people) * width,
                        rng.uniform(0.3, 0.85, num_people) * height], 1)
    # the pelvis is about mid-body: keep the head in the image, let feet leave it sometimes
    origins[:, 1] = np.clip(origins[:, 1], 0.4 * heights, height - 0.25 * heights)
    return heights, origins


def _visibility(body, kpts, label_map, person):
    """COCO visibility flags (17,) of one person from the final label map."""
    h, w = label_map.shape
    flags = np.zeros(17, np.int64)

    def own(part_names):
        return {person * LABELS_PER_PERSON + PART[p] + 1 for p in part_names}

    for name, i in KPT.items():
        x, y = int(round(kpts[i, 0])), int(round(kpts[i, 1]))
        if not (0 <= x < w and 0 <= y < h):
            continue
        if name in _FACE_FACING:
            seen, labelled = _FACE_FACING[name]
            facing = body.face_normals[i, 2]
            if facing <= labelled:
                continue
            on_top = facing > seen and label_map[y, x] in own(('head',))
        else:
            on_top = label_map[y, x] in own(JOINT_PARTS[name])
        flags[i] = 2 if on_top else 1
    return flags


def _silhouette(parts, shape):
    mask = np.zeros(shape, np.uint8)
    for part in parts:
        draw_part(None, mask, part, 1)
    return mask


def _polygons(mask):
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    polys = [cv2.approxPolyDP(c, 1.0, True).reshape(-1).astype(float).tolist() for c in contours]
    return [p for p in polys if len(p) >= 6]


def render_scene(rng, width, height, people_range, height_range, occluder_prob,
                 clutter_shapes):
    """Render one image; returns (BGR uint8 image, list of annotation dicts without ids)."""
    num_people = int(rng.integers(people_range[0], people_range[1] + 1))
    heights, origins = _place_people(rng, num_people, width, height, height_range)
    img = make_background(rng, height, width, float(np.median(heights)), clutter_shapes)
    label_map = np.zeros((height, width), np.uint16)

    people = []
    for h_px, origin in zip(heights, origins):
        body = sample_body(rng)
        parts, kpts = build_parts(body, h_px, origin, sample_style(rng))
        people.append((body, parts, kpts))
    # bigger people are nearer on average; the noise lets small people stand in front sometimes
    depth = np.log(heights) + rng.normal(0, 0.3, num_people)
    for person in np.argsort(depth):
        _, parts, _ = people[person]
        for part in sorted(parts, key=lambda p: p.depth):
            draw_part(img, label_map, part, int(person * LABELS_PER_PERSON + part.part + 1))
    # a geometric number of occluders, mean p / (1 - p): finite only for p < 1 (generate_dataset)
    while rng.random() < occluder_prob:
        draw_occluder(rng, img, label_map, OCCLUDER_LABEL, float(np.median(heights)))
    img = finish_image(rng, img)

    annotations = []
    for person, (body, parts, kpts) in enumerate(people):
        flags = _visibility(body, kpts, label_map, person)
        mask = _silhouette(parts, (height, width))
        if flags.max() == 0 or mask.sum() == 0:
            continue  # the person is entirely outside the image
        ys, xs = np.nonzero(mask)
        x0, y0 = float(xs.min()), float(ys.min())
        keypoints = np.concatenate([np.where(flags[:, None] > 0, kpts, 0), flags[:, None]], 1)
        annotations.append(dict(
            keypoints=[round(float(v), 2) for v in keypoints.reshape(-1)],
            num_keypoints=int((flags > 0).sum()),
            bbox=[x0, y0, float(xs.max()) + 1 - x0, float(ys.max()) + 1 - y0],
            area=float(mask.sum()), segmentation=_polygons(mask), iscrowd=0, category_id=1))
    return img, annotations

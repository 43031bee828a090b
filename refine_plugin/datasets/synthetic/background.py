"""Textured, cluttered backgrounds, and the foreground clutter that occludes people.

Clutter uses the same colour distribution as the people, and some of it is limb-like strokes, so
neither colour nor shape alone tells a body part from the background.
"""
import cv2
import numpy as np

SUBPIXEL_BITS = 4  # cv2 drawing takes fixed-point coordinates: 1/16 pixel precision
_SCALE = 1 << SUBPIXEL_BITS
# rectangle, ellipse, polygon, limb-like stroke: strokes are rarer, so that the figures stay
# learnable in the few minutes of the main job while a stray limb-like shape still appears in
# most images
_CLUTTER_KIND_PROBS = (0.3, 0.3, 0.3, 0.1)


def random_color(rng):
    """A clothing/clutter colour: any hue, moderate to strong saturation and value (BGR)."""
    hsv = np.uint8([[[rng.integers(0, 180), rng.integers(40, 256), rng.integers(50, 256)]]])
    return tuple(int(c) for c in cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)[0, 0])


def fixed_point(points):
    """Float pixel coordinates -> cv2's fixed-point int32 coordinates."""
    return np.round(np.asarray(points, dtype=np.float64) * _SCALE).astype(np.int32)


def _smooth_field(rng, height, width, cells):
    """Low-frequency noise in [0, 1]: a coarse random grid upsampled bicubically."""
    grid = rng.random((cells, cells, 3)).astype(np.float32)
    return np.clip(cv2.resize(grid, (width, height), interpolation=cv2.INTER_CUBIC), 0, 1)


def _stripes(rng, height, width):
    """A periodic texture (floor tiles, fabric, fences) at a random angle and period."""
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    angle = rng.uniform(0, np.pi)
    period = rng.uniform(4, 24)
    phase = (xs * np.cos(angle) + ys * np.sin(angle)) * (2 * np.pi / period)
    return (0.5 + 0.5 * np.sin(phase))[..., None]


def draw_clutter_shape(rng, img, color, size_range):
    """One random shape: rectangle, ellipse, polygon or a limb-like capsule stroke."""
    h, w = img.shape[:2]
    size = rng.uniform(*size_range)
    cx, cy = rng.uniform(-0.1 * w, 1.1 * w), rng.uniform(-0.1 * h, 1.1 * h)
    kind = rng.choice(4, p=_CLUTTER_KIND_PROBS)
    if kind == 0:
        corners = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]]) * rng.uniform(0.2, 1, 2) * size
        rot = rng.uniform(0, np.pi)
        c, s = np.cos(rot), np.sin(rot)
        pts = corners @ np.array([[c, s], [-s, c]]) + (cx, cy)
        cv2.fillPoly(img, [fixed_point(pts)], color, cv2.LINE_AA, SUBPIXEL_BITS)
    elif kind == 1:
        axes = fixed_point(rng.uniform(0.15, 0.6, 2) * size)
        cv2.ellipse(img, tuple(fixed_point((cx, cy))), tuple(axes), rng.uniform(0, 180), 0, 360,
                    color, -1, cv2.LINE_AA, SUBPIXEL_BITS)
    elif kind == 2:
        n = rng.integers(3, 7)
        ang = np.sort(rng.uniform(0, 2 * np.pi, n))
        rad = rng.uniform(0.2, 0.6, n) * size
        pts = np.stack([cx + rad * np.cos(ang), cy + rad * np.sin(ang)], 1)
        cv2.fillPoly(img, [fixed_point(pts)], color, cv2.LINE_AA, SUBPIXEL_BITS)
    else:
        ang = rng.uniform(0, 2 * np.pi)
        end = (cx + size * np.cos(ang), cy + size * np.sin(ang))
        thickness = max(1, int(size * rng.uniform(0.08, 0.3)))
        cv2.line(img, tuple(fixed_point((cx, cy))), tuple(fixed_point(end)), color, thickness,
                 cv2.LINE_AA, SUBPIXEL_BITS)


def make_background(rng, height, width, person_scale, clutter_shapes=(8, 30)):
    """A BGR uint8 background: smooth colour field, optional stripes, and a number of clutter
    shapes in the ``clutter_shapes`` range, sized like body parts of people of height
    ``person_scale`` up to whole objects."""
    base = np.array(random_color(rng), np.float32) / 255
    field = _smooth_field(rng, height, width, int(rng.integers(3, 9)))
    img = 0.55 * base + 0.45 * field
    if rng.random() < 0.5:
        img = img * (0.75 + 0.25 * _stripes(rng, height, width))
    img = (np.clip(img, 0, 1) * 255).astype(np.uint8)
    for _ in range(rng.integers(clutter_shapes[0], clutter_shapes[1] + 1)):
        draw_clutter_shape(rng, img, random_color(rng), (0.1 * person_scale, 0.8 * person_scale))
    return img


def draw_occluder(rng, img, label_map, label, person_scale):
    """A foreground object in front of people; it is drawn into ``label_map`` as ``label`` so the
    joints it hides are marked occluded."""
    mask = np.zeros(img.shape[:2], np.uint8)
    draw_clutter_shape(rng, mask, 255, (0.3 * person_scale, 0.9 * person_scale))
    color = np.array(random_color(rng), np.float32)
    shade = 0.8 + 0.2 * _smooth_field(rng, *img.shape[:2], 4)
    alpha = (mask.astype(np.float32) / 255)[..., None]
    img[:] = (img * (1 - alpha) + color * shade * alpha).astype(np.uint8)
    label_map[mask > 127] = label


def finish_image(rng, img):
    """Camera effects: slight blur and sensor noise."""
    if rng.random() < 0.5:
        img = cv2.GaussianBlur(img, (0, 0), rng.uniform(0.3, 0.9))
    noise = rng.normal(0, rng.uniform(2, 7), img.shape)
    return np.clip(img + noise, 0, 255).astype(np.uint8)

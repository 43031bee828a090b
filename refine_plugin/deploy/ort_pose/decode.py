"""Heatmap -> keypoint decoders of MMPose's codecs, in numpy and OpenCV only.

Each follows the MMPose 1.x codec of the same name (``MSRAHeatmap`` with and without
``unbiased``, ``MegviiHeatmap``, and the plugin's ``SoftmaxHeatmap``) so ONNX Runtime users get
the keypoints ``model.test_step`` gives. Keypoints come out in model-input pixels;
``OnnxPoseInferencer`` maps them to the image.
"""
import cv2
import numpy as np

SUPPORTED_CODECS = ('MSRAHeatmap', 'SoftmaxHeatmap', 'MegviiHeatmap')
SOFTMAX_REFINEMENTS = ('quadratic', 'dark', 'quarter')


def check_softmax_refinement(refinement: str) -> None:
    """Refuse a ``SoftmaxHeatmap`` refinement this decoder does not know (the codec checks its
    argument with it, the ONNX decoder the value read from a file's metadata)."""
    if refinement not in SOFTMAX_REFINEMENTS:
        raise ValueError(f'SoftmaxHeatmap refinement must be one of {SOFTMAX_REFINEMENTS}, '
                         f'got {refinement!r}')


def heatmap_maximum(heatmaps: np.ndarray):
    """Argmax ``(K, 2)`` as (x, y) and peak ``(K,)`` of ``(K, H, W)`` heatmaps; -1 where peak <= 0."""
    num_keypoints, _, width = heatmaps.shape
    flat = heatmaps.reshape(num_keypoints, -1)
    index = flat.argmax(axis=1)
    locations = np.stack([index % width, index // width], axis=-1).astype(np.float32)
    peaks = flat.max(axis=1)
    locations[peaks <= 0.] = -1
    return locations, peaks


def gaussian_blur(heatmaps: np.ndarray, kernel: int) -> np.ndarray:
    """Blur each heatmap with zero padding, then rescale it to keep its original peak."""
    border = (kernel - 1) // 2
    blurred = np.empty_like(heatmaps)
    for k, heatmap in enumerate(heatmaps):
        padded = np.pad(heatmap.astype(np.float32), border)
        padded = cv2.GaussianBlur(padded, (kernel, kernel), 0)
        blurred[k] = padded[border:-border, border:-border]
        blurred[k] *= heatmap.max() / blurred[k].max()
    return blurred


def quarter_offset_refine(locations: np.ndarray, heatmaps: np.ndarray) -> np.ndarray:
    """Move each argmax a quarter pixel towards its higher neighbour (MSRAHeatmap)."""
    _, height, width = heatmaps.shape
    for k, heatmap in enumerate(heatmaps):
        x, y = locations[k].astype(int)
        dx = heatmap[y, x + 1] - heatmap[y, x - 1] if 1 < x < width - 1 and 0 < y < height else 0.
        dy = heatmap[y + 1, x] - heatmap[y - 1, x] if 1 < y < height - 1 and 0 < x < width else 0.
        locations[k] += np.sign(np.array([dx, dy], dtype=np.float32)) * 0.25
    return locations


def dark_refine(locations: np.ndarray, heatmaps: np.ndarray, blur_kernel_size: int) -> np.ndarray:
    """Distribution-aware refinement (DARK): one Newton step on the blurred log-heatmap."""
    _, height, width = heatmaps.shape
    log_maps = np.log(np.maximum(gaussian_blur(heatmaps, blur_kernel_size), 1e-10))
    for k, h in enumerate(log_maps):
        x, y = locations[k].astype(int)
        if not (1 < x < width - 2 and 1 < y < height - 2):
            continue
        dx = 0.5 * (h[y, x + 1] - h[y, x - 1])
        dy = 0.5 * (h[y + 1, x] - h[y - 1, x])
        dxx = 0.25 * (h[y, x + 2] - 2 * h[y, x] + h[y, x - 2])
        dxy = 0.25 * (h[y + 1, x + 1] - h[y - 1, x + 1] - h[y + 1, x - 1] + h[y - 1, x - 1])
        dyy = 0.25 * (h[y + 2, x] - 2 * h[y, x] + h[y - 2, x])
        if dxx * dyy - dxy**2 != 0:
            hessian = np.array([[dxx, dxy], [dxy, dyy]])
            locations[k] -= np.linalg.inv(hessian) @ np.array([dx, dy])
    return locations


def quadratic_refine(locations: np.ndarray, log_maps: np.ndarray) -> np.ndarray:
    """One Newton step from each argmax towards the maximum of the quadratic through the log-map
    at that pixel and its 8 neighbours (central differences at unit spacing).

    Exact for a Gaussian map, as DARK is, but it reads only the 3x3 window around the peak: DARK's
    second differences span two pixels either side, where a sharp peak's log is no longer
    quadratic, and it leaves a 2-pixel border unrefined (half of a 16x12 map). Peaks on the map's
    edge keep their whole-pixel location, and so do windows that are not concave; a step is
    bounded to one pixel (a near-flat direction would otherwise send it anywhere).

    Args:
        locations (np.ndarray): (K, 2) argmax (x, y) of each map; -1 for a missing keypoint.
        log_maps (np.ndarray): (K, H, W) log-heatmaps, or logits (any per-map constant or
            positive factor gives the same step).

    Returns:
        np.ndarray: (K, 2) refined locations.
    """
    _, height, width = log_maps.shape
    x, y = locations[:, 0].astype(int), locations[:, 1].astype(int)
    k = np.flatnonzero((x > 0) & (x < width - 1) & (y > 0) & (y < height - 1))
    x, y = x[k], y[k]
    log_maps = log_maps.astype(np.float64)

    def at(dy, dx):
        return log_maps[k, y + dy, x + dx]

    grad_x = 0.5 * (at(0, 1) - at(0, -1))
    grad_y = 0.5 * (at(1, 0) - at(-1, 0))
    h_xx = at(0, 1) - 2 * at(0, 0) + at(0, -1)
    h_yy = at(1, 0) - 2 * at(0, 0) + at(-1, 0)
    h_xy = 0.25 * (at(1, 1) - at(-1, 1) - at(1, -1) + at(-1, -1))
    det = h_xx * h_yy - h_xy**2
    concave = (det > 0) & (h_xx < 0)
    det = np.where(concave, det, 1.)
    step = -np.stack([h_yy * grad_x - h_xy * grad_y, h_xx * grad_y - h_xy * grad_x], -1)
    step /= det[:, None]
    refined = locations.copy()
    refined[k[concave]] += np.clip(step[concave], -1., 1.).astype(locations.dtype)
    return refined


def decode_msra(heatmaps, unbiased=False, blur_kernel_size=11):
    locations, scores = heatmap_maximum(heatmaps)
    if unbiased:
        return dark_refine(locations, heatmaps, blur_kernel_size), scores
    return quarter_offset_refine(locations, heatmaps), scores


def spatial_softmax(logits: np.ndarray, beta: float) -> np.ndarray:
    """Softmax over the pixels of each (H, W) map of ``logits`` (K, H, W), after scaling by beta."""
    flat = logits.reshape(logits.shape[0], -1).astype(np.float32) * beta
    flat = np.exp(flat - flat.max(axis=1, keepdims=True))
    return (flat / flat.sum(axis=1, keepdims=True)).reshape(logits.shape)


def ideal_softmax_peak(sigma: float) -> float:
    """The peak of a normalised Gaussian target of ``sigma`` centred on a pixel: the largest
    probability a network trained on such targets is taught to give a keypoint."""
    offsets = np.arange(-int(np.ceil(6 * sigma)), int(np.ceil(6 * sigma)) + 1)
    return float(1 / np.exp(-offsets**2 / (2 * sigma**2)).sum()**2)


def decode_softmax(logits, beta, sigma, refinement='quadratic', blur_kernel_size=11):
    """SoftmaxHeatmap: the softmax's argmax, refined as ``refinement`` says (``'quadratic'`` on the
    logits, or ``decode_msra``'s ``'dark'`` / ``'quarter'`` on the softmax), scores as a fraction
    of the target's peak.

    Why the scale: a softmax peak is at most about 1 / (2 pi sigma^2) (0.25 at sigma 0.8), where
    MMPose's heatmap scores reach 1, and CocoMetric rescores each person by the mean of the
    keypoint scores above 0.2: raw softmax peaks mostly fall below it, which left a few joints
    deciding each person's score (val AP 0.208 where the scaled scores give 0.233, on the main
    job's CPU model).
    """
    # checked here too: an ONNX file's metadata can carry a value the codec never validated
    check_softmax_refinement(refinement)
    probabilities = spatial_softmax(logits, beta)
    if refinement == 'quadratic':
        locations, scores = heatmap_maximum(probabilities)
        locations = quadratic_refine(locations, logits)
    else:
        locations, scores = decode_msra(probabilities, refinement == 'dark', blur_kernel_size)
    return locations, scores / ideal_softmax_peak(sigma)


def decode_megvii(heatmaps, kernel_size=11):
    """MegviiHeatmap: blur, argmax, quarter pixel towards the higher neighbour plus half a pixel.

    Its targets are 0-255 images, so scores are rescaled by 1/255 and offset by 0.5 as in MMPose.
    """
    blurred = gaussian_blur(heatmaps, kernel_size)
    _, height, width = blurred.shape
    locations, scores = heatmap_maximum(blurred)
    for k, heatmap in enumerate(blurred):
        x, y = int(locations[k, 0]), int(locations[k, 1])
        if 1 < x < width - 1 and 1 < y < height - 1:
            diff = np.array([heatmap[y, x + 1] - heatmap[y, x - 1],
                             heatmap[y + 1, x] - heatmap[y - 1, x]])
            locations[k] += np.sign(diff) * 0.25 + 0.5
    return locations, scores / 255.0 + 0.5


def decode_heatmaps(heatmaps: np.ndarray, codec: dict):
    """Keypoints ``(K, 2)`` in input pixels and scores ``(K,)`` from one person's heatmaps.

    ``codec`` is the MMPose codec config (``type``, ``input_size``, ``heatmap_size`` and the
    type's options) as stored in the ONNX metadata.
    """
    codec_type = codec['type']
    if codec_type == 'MSRAHeatmap':
        locations, scores = decode_msra(heatmaps, codec.get('unbiased', False),
                                        codec.get('blur_kernel_size', 11))
    elif codec_type == 'SoftmaxHeatmap':
        locations, scores = decode_softmax(heatmaps, codec.get('beta', 1.0), codec['sigma'],
                                           codec.get('refinement', 'quadratic'),
                                           codec.get('blur_kernel_size', 11))
    elif codec_type == 'MegviiHeatmap':
        locations, scores = decode_megvii(heatmaps, codec.get('kernel_size', 11))
    else:
        raise ValueError(f"codec type '{codec_type}' has no ONNX Runtime decoder; supported: "
                         f'{", ".join(SUPPORTED_CODECS)}')
    scale = np.array(codec['input_size'], np.float32) / np.array(codec['heatmap_size'], np.float32)
    return locations * scale, scores

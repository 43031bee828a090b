"""Person crops for a top-down model: MMPose's ``GetBBoxCenterScale`` + ``TopdownAffine``.

The arithmetic follows MMPose step by step (padding, aspect-ratio fix, the three-point affine
matrix in float32, bilinear ``warpAffine``) so that crops and therefore keypoints match the
PyTorch model's to float rounding.
"""
import cv2
import numpy as np


def bbox_center_scale(bboxes: np.ndarray, aspect_ratio: float, padding: float = 1.25):
    """Centres and sizes of the crop boxes for ``(N, 4)`` xyxy person boxes.

    The box is padded and then widened or heightened to the model's aspect ratio (w / h).
    """
    bboxes = np.asarray(bboxes, dtype=np.float32).reshape(-1, 4)
    centers = (bboxes[:, :2] + bboxes[:, 2:]) * 0.5
    scales = (bboxes[:, 2:] - bboxes[:, :2]) * padding
    w, h = scales[:, 0], scales[:, 1]
    scales = np.where((w > h * aspect_ratio)[:, None],
                      np.stack([w, w / aspect_ratio], axis=1),
                      np.stack([h * aspect_ratio, h], axis=1))
    return centers, scales


def warp_matrix(center: np.ndarray, scale: np.ndarray, output_size) -> np.ndarray:
    """The 2x3 affine matrix mapping the box ``center``/``scale`` onto an output of (w, h)."""
    dst_w, dst_h = output_size
    src = np.zeros((3, 2), dtype=np.float32)
    dst = np.zeros((3, 2), dtype=np.float32)
    src[0] = center
    src[1] = center + np.array([-0.5 * scale[0], 0.])
    dst[0] = [dst_w * 0.5, dst_h * 0.5]
    dst[1] = dst[0] + np.array([-0.5 * dst_w, 0.])
    # the third point is the second one turned 90 degrees about the first: no shear
    src[2] = src[1] + np.array([src[1, 1] - src[0, 1], src[0, 0] - src[1, 0]])
    dst[2] = dst[1] + np.array([dst[1, 1] - dst[0, 1], dst[0, 0] - dst[1, 0]])
    return cv2.getAffineTransform(src, dst)


def crop_persons(image: np.ndarray, bboxes: np.ndarray, input_size, padding: float = 1.25):
    """Crops ``(N, h, w, 3)`` of ``image`` for xyxy ``bboxes``, with their centres and scales."""
    input_w, input_h = input_size
    centers, scales = bbox_center_scale(bboxes, input_w / input_h, padding)
    crops = np.stack([
        cv2.warpAffine(image, warp_matrix(c, s, input_size), (int(input_w), int(input_h)),
                       flags=cv2.INTER_LINEAR) for c, s in zip(centers, scales)
    ]) if len(centers) else np.zeros((0, input_h, input_w, 3), dtype=image.dtype)
    return crops, centers, scales

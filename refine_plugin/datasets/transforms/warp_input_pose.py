"""Carry PoseFix's input pose into the crop, as the ground-truth keypoints are carried.

MMPose's ``RandomFlip`` and ``TopdownAffine`` move ``keypoints`` only; the input pose needs the
same flip and the same affine warp, recomputed here from what those transforms leave in the results
(``flip``, ``img_shape``, ``input_center``, ``input_scale``, ``bbox_rotation``).
"""
import cv2
import numpy as np
from mmcv.transforms import BaseTransform

from mmpose.registry import TRANSFORMS
from mmpose.structures.bbox import get_udp_warp_matrix, get_warp_matrix
from mmpose.structures.keypoint import flip_keypoints


@TRANSFORMS.register_module()
class WarpInputPose(BaseTransform):
    """Map ``input_pose`` from image to crop pixel coordinates; place after ``TopdownAffine``.

    Required keys: ``input_pose`` (1, K, 2), ``input_pose_visible`` (1, K), ``img_shape``,
    ``input_center``, ``input_scale``, ``input_size``; optional ``flip``, ``flip_direction``,
    ``flip_indices``, ``bbox_rotation``. Modified: ``input_pose``, ``input_pose_visible``.

    Args:
        use_udp: as the ``use_udp`` of the pipeline's ``TopdownAffine``.
    """

    def __init__(self, use_udp: bool = False):
        self.use_udp = use_udp

    def transform(self, results: dict) -> dict:
        pose, visible = results['input_pose'], results['input_pose_visible']
        if results.get('flip', False):
            h, w = results['img_shape']
            pose, visible = flip_keypoints(pose, visible, image_size=(w, h),
                                           flip_indices=results['flip_indices'],
                                           direction=results['flip_direction'])
        rotation = results['bbox_rotation'][0] if 'bbox_rotation' in results else 0.
        warp = get_udp_warp_matrix if self.use_udp else get_warp_matrix
        warp_mat = warp(results['input_center'], results['input_scale'], rotation,
                        output_size=results['input_size'])
        results['input_pose'] = cv2.transform(pose.astype(np.float32), warp_mat)
        results['input_pose_visible'] = visible
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(use_udp={self.use_udp})'

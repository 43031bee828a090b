"""COCO top-down samples that also know the other persons of their image (for PoseFix's swaps)."""
from collections import defaultdict
from typing import Dict, List

import numpy as np

from mmpose.registry import DATASETS

from .checked_coco_dataset import CheckedCocoDataset


@DATASETS.register_module()
class PoseFixCocoDataset(CheckedCocoDataset):
    """:class:`CheckedCocoDataset` whose samples carry the other annotated persons.

    A top-down sample is one person, but :class:`SynthesizePoseErrors` swaps joints with the
    persons overlapping it, so each sample gets ``other_keypoints`` (M, K, 2),
    ``other_keypoints_visible`` (M, K), ``other_bboxes`` (M, 4) xyxy and ``other_areas`` (M,):
    the other valid instances of its image.
    """

    def _get_topdown_data_infos(self, instance_list: List[Dict]) -> List[Dict]:
        data_list = super()._get_topdown_data_infos(instance_list)
        by_image = defaultdict(list)
        for info in data_list:
            by_image[info['img_id']].append(info)
        num_keypoints = self.metainfo['num_keypoints']
        for info in data_list:
            others = [o for o in by_image[info['img_id']] if o['id'] != info['id']]
            info['other_keypoints'] = np.concatenate(
                [o['keypoints'] for o in others]).astype(np.float32) if others else np.zeros(
                    (0, num_keypoints, 2), np.float32)
            info['other_keypoints_visible'] = np.concatenate(
                [o['keypoints_visible'] for o in others]).astype(np.float32) if others else \
                np.zeros((0, num_keypoints), np.float32)
            info['other_bboxes'] = np.concatenate(
                [o['bbox'] for o in others]).astype(np.float32) if others else np.zeros(
                    (0, 4), np.float32)
            info['other_areas'] = np.array([float(o['area']) for o in others], np.float32)
        return data_list

"""CocoMetric that writes the results file of a COCO keypoint challenge submission (test-dev).

Without ground truth there is nothing to evaluate: the metric runs CocoMetric's rescoring and OKS
NMS, checks every result against the image list, then writes
``person_keypoints_<split>_<name>_results.json``, the file name the COCO server expects.
"""
import os.path as osp
from typing import Dict

import numpy as np
from mmengine.fileio import dump
from mmengine.utils import mkdir_or_exist
from mmengine.logging import MMLogger

from mmpose.evaluation.metrics import CocoMetric
from mmpose.registry import METRICS
from .keypoint_results import check_keypoint_results


@METRICS.register_module()
class CocoSubmissionMetric(CocoMetric):
    """Write the COCO keypoint results of a split without ground truth.

    Args:
        ann_file (str): the split's image list (e.g. ``image_info_test-dev2017.json``); it may hold
            no annotations.
        outfile_dir (str): where the results file is written.
        submission_name (str): the ``<name>`` of the results file (letters, digits, ``-``).
        split (str): the split in the file name. Defaults to ``'test-dev2017'``.
        **kwargs: CocoMetric's rescoring and NMS settings.
    """

    def __init__(self, ann_file: str, outfile_dir: str, submission_name: str,
                 split: str = 'test-dev2017', **kwargs):
        if not submission_name.replace('-', '').isalnum():
            raise ValueError(f'submission_name must be letters, digits and "-", '
                             f'got {submission_name!r}')
        self.results_file = osp.join(
            outfile_dir, f'person_keypoints_{split}_{submission_name}_results.json')
        super().__init__(ann_file=ann_file, format_only=True,
                         outfile_prefix=osp.join(outfile_dir, submission_name), **kwargs)

    def results2json(self, keypoints: Dict[int, list], outfile_prefix: str) -> str:
        results = [_keypoint_result(instance)
                   for instances in keypoints.values() for instance in instances]
        check_keypoint_results(results, self.coco.getImgIds(), self.dataset_meta['num_keypoints'],
                               source=self.results_file)
        mkdir_or_exist(osp.dirname(self.results_file) or '.')
        dump(results, self.results_file)
        MMLogger.get_current_instance().info(
            f'{len(results)} results on {len(keypoints)} images -> {self.results_file}')
        return self.results_file


def _keypoint_result(instance: dict) -> dict:
    """One person's entry; with the box its pose was estimated in, as CocoMetric writes it (the
    COCO server ignores it, and a PoseFix refiner can crop around it)."""
    result = dict(image_id=int(instance['img_id']), category_id=int(instance['category_id']),
                  keypoints=np.asarray(instance['keypoints'], dtype=float).reshape(-1).tolist(),
                  score=float(instance['score']))
    if 'bbox' in instance:
        result['bbox'] = np.asarray(instance['bbox'], dtype=float).reshape(-1).tolist()
    return result

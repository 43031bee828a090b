"""The paper's test-time pipeline: person boxes -> pose model or ensemble -> PoseFix -> results.

Each step writes a COCO keypoint results file (the final one is the submission file); with ground
truth, each step is scored by the same COCO evaluator.
"""
import os.path as osp
from typing import List, Optional

import torch
from mmengine.fileio import dump

from ..datasets.input_checks import load_json
from ..evaluation import check_keypoint_results
from .coco_evaluation import coco_ap, has_keypoint_annotations
from .pose_estimation import estimate_poses
from .posefix import image_paths_by_id, init_refiner, refine_results

TABLE_COLUMNS = ('AP', 'AP50', 'AP75', 'APm', 'APl', 'AR')


def run_pipeline(pose_config: str, pose_checkpoint: Optional[str], ann_file: str, img_dir: str,
                 out_dir: str, bbox_file: Optional[str] = None, bbox_score_thr: float = 0.0,
                 refiner_config: Optional[str] = None, refiner_checkpoint: Optional[str] = None,
                 submission_name: str = 'refineplugin', split: str = 'val2017',
                 device: Optional[str] = None, cfg_options: Optional[dict] = None) -> dict:
    """Run every step; return ``dict(results_file=final file, steps=[row, ...])``.

    A row is ``dict(step, results_file, **COCO stats)``; the stats are there when ``ann_file``
    holds ground truth (the boxes row then has the person-box AP of ``bbox_file``).
    ``cfg_options`` override settings of the pose config (e.g. an ensemble member's checkpoint).
    """
    with_gt = has_keypoint_annotations(ann_file)
    if bbox_file is None and not with_gt:
        raise ValueError(f'{ann_file} has no ground-truth persons: give a bbox_file')
    steps = []
    if bbox_file is not None and with_gt:
        steps.append(dict(step='person boxes (bbox AP)', results_file=bbox_file,
                          **coco_ap(ann_file, bbox_file, iou_type='bbox')))
    pose_file = estimate_poses(pose_config, pose_checkpoint, ann_file, img_dir,
                               osp.join(out_dir, 'pose'), bbox_file=bbox_file,
                               bbox_score_thr=bbox_score_thr, submission_name=submission_name,
                               split=split, cfg_options=cfg_options)
    steps.append(_keypoint_row('pose model', pose_file, ann_file, with_gt))
    if refiner_config is not None:
        refined_file = _refine(pose_file, refiner_config, refiner_checkpoint, ann_file, img_dir,
                               osp.join(out_dir, 'posefix'), device)
        steps.append(_keypoint_row('+ PoseFix', refined_file, ann_file, with_gt))
    return dict(results_file=steps[-1]['results_file'], steps=steps)


def _keypoint_row(step: str, results_file: str, ann_file: str, with_gt: bool) -> dict:
    row = dict(step=step, results_file=results_file)
    if with_gt:
        row.update(coco_ap(ann_file, results_file, iou_type='keypoints'))
    return row


def _refine(results_file: str, refiner_config: str, refiner_checkpoint: Optional[str],
            ann_file: str, img_dir: str, out_dir: str, device: Optional[str]) -> str:
    device = device or ('cuda' if torch.cuda.is_available() else 'cpu')
    refiner = init_refiner(refiner_config, refiner_checkpoint, device=device)
    results = load_json(results_file, 'keypoint results file')
    image_paths = image_paths_by_id(img_dir, ann_file)
    refined = refine_results(refiner, results, img_dir, image_paths=image_paths,
                             source=results_file)
    out_file = osp.join(out_dir, osp.basename(results_file))
    # the refined file is the submission: checked as the pose model's file was
    check_keypoint_results(refined, image_paths.keys(), refiner.dataset_meta['num_keypoints'],
                           source=out_file)
    dump(refined, out_file)  # atomic (AtomicLocalBackend): never a truncated submission
    return out_file


def format_table(steps: List[dict]) -> str:
    """A Markdown table of the steps' COCO stats (steps without ground truth show '-')."""
    lines = ['| step | ' + ' | '.join(TABLE_COLUMNS) + ' | results |',
             '|---|' + '---:|' * len(TABLE_COLUMNS) + '---|']
    for row in steps:
        values = [f'{row[c]:.4f}' if c in row else '-' for c in TABLE_COLUMNS]
        lines.append(f'| {row["step"]} | ' + ' | '.join(values) + f' | {row["results_file"]} |')
    return '\n'.join(lines)

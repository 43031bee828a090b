"""Refine any estimator's COCO keypoint results with a PoseFix refiner.

Results go in and out in COCO's results format (a list of ``{image_id, category_id, keypoints,
score}``): the refiner replaces the (x, y) of every joint and keeps everything else, so image ids,
scores, joint scores and the count are those of the input.
"""
import json
import os
import os.path as osp
from typing import Dict, List, Optional, Union

import numpy as np
import torch
from mmengine.config import Config
from mmengine.dataset import Compose, pseudo_collate

from mmpose.apis import init_model

IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp')


def init_refiner(config: Union[str, Config], checkpoint: Optional[str] = None,
                 device: str = 'cpu') -> torch.nn.Module:
    """Build a PoseFix refiner from its config (and checkpoint) in eval mode on ``device``."""
    model = init_model(config, checkpoint, device=device)
    if 'refine_pipeline' not in model.cfg:
        raise KeyError(f'{config}: a refiner config needs `refine_pipeline`, the test pipeline '
                       'whose input pose comes from results (see configs/posefix/)')
    return model


def image_paths_by_id(img_dir: str, ann_file: Optional[str] = None) -> Dict[int, str]:
    """Image id -> path: from the ``images`` of ``ann_file`` when given, else from file names
    that are the image id (COCO's ``000000000785.jpg``)."""
    if ann_file is not None:
        with open(ann_file) as f:
            images = json.load(f)['images']
        return {img['id']: osp.join(img_dir, img['file_name']) for img in images}
    paths = {}
    for name in sorted(os.listdir(img_dir)):
        stem, ext = osp.splitext(name)
        if ext.lower() in IMAGE_EXTENSIONS and stem.isdigit():
            paths[int(stem)] = osp.join(img_dir, name)
    return paths


def _input_pose_info(result: dict, index: int, num_joints: int, image_paths: Dict[int, str],
                     source: str) -> dict:
    """The data info of one result for the refiner's ``refine_pipeline``."""
    for key in ('image_id', 'keypoints', 'score'):
        if key not in result:
            raise KeyError(f'{source}: result {index} has no {key!r}')
    keypoints = np.asarray(result['keypoints'], dtype=np.float32)
    if keypoints.size != 3 * num_joints:
        raise ValueError(f'{source}: result {index} (image {result["image_id"]}) has '
                         f'{keypoints.size} keypoint values, the refiner expects '
                         f'{num_joints} joints x 3')
    img_path = image_paths.get(result['image_id'])
    if img_path is None or not osp.isfile(img_path):
        raise FileNotFoundError(f'{source}: result {index} refers to image '
                                f'{result["image_id"]}, not found ({img_path or "no file"})')
    keypoints = keypoints.reshape(num_joints, 3)
    return dict(img_path=img_path, img_id=result['image_id'], id=index,
                input_pose=keypoints[None, :, :2],
                input_pose_visible=(keypoints[None, :, 2] > 0).astype(np.float32),
                bbox_score=np.array([result['score']], dtype=np.float32))


def refine_results(model: torch.nn.Module, results: List[dict], img_dir: str,
                   batch_size: int = 16, image_paths: Optional[Dict[int, str]] = None,
                   source: str = 'results') -> List[dict]:
    """Refine COCO keypoint results; the output matches the input but for the joints' (x, y).

    Joints with score 0 are missing from the input pose (rendered as empty maps) but still get
    the refiner's estimate. ``image_paths`` maps image ids to files (default:
    :func:`image_paths_by_id` of ``img_dir``); ``source`` names the results in error messages.
    """
    num_joints = model.dataset_meta['num_keypoints']
    image_paths = image_paths if image_paths is not None else image_paths_by_id(img_dir)
    infos = [_input_pose_info(r, i, num_joints, image_paths, source) for i, r in enumerate(results)]
    pipeline = Compose(model.cfg.refine_pipeline)
    refined = []
    for start in range(0, len(infos), batch_size):
        batch = [pipeline(dict(info, **model.dataset_meta))
                 for info in infos[start:start + batch_size]]
        with torch.no_grad():
            samples = model.test_step(pseudo_collate(batch))
        for sample in samples:
            result = results[sample.metainfo['id']]
            keypoints = np.asarray(result['keypoints'], dtype=np.float32).reshape(num_joints, 3)
            keypoints[:, :2] = sample.pred_instances.keypoints[0, :, :2]
            refined.append(dict(result, keypoints=keypoints.reshape(-1).tolist()))
    return refined


def refine_results_file(model: torch.nn.Module, results_file: str, img_dir: str, out_file: str,
                        ann_file: Optional[str] = None, batch_size: int = 16) -> List[dict]:
    """Refine a COCO keypoint results JSON into ``out_file``; images by id from ``ann_file``
    when given, else by file name (see :func:`image_paths_by_id`)."""
    try:
        with open(results_file) as f:
            results = json.load(f)
    except json.JSONDecodeError as error:
        raise ValueError(f'{results_file} is not valid JSON: {error}') from error
    if not isinstance(results, list):
        raise ValueError(f'{results_file}: COCO keypoint results must be a JSON list, '
                         f'got {type(results).__name__}')
    refined = refine_results(model, results, img_dir, batch_size=batch_size,
                             image_paths=image_paths_by_id(img_dir, ann_file),
                             source=results_file)
    out_dir = osp.dirname(osp.abspath(out_file))
    os.makedirs(out_dir, exist_ok=True)
    with open(out_file, 'w') as f:
        json.dump(refined, f)
    return refined

"""Refine any estimator's COCO keypoint results with a PoseFix refiner.

Results go in and out in COCO's results format (a list of ``{image_id, category_id, keypoints,
score}``): the refiner replaces the (x, y) of every joint and keeps everything else, so image ids,
scores, joint scores and the count are those of the input.
"""
import os
import os.path as osp
from typing import Dict, List, Optional, Union

import numpy as np
import torch
from mmengine.config import Config
from mmengine.dataset import Compose, pseudo_collate
from mmengine.fileio import dump

from mmpose.apis import init_model
from ..datasets.input_checks import InvalidInputError, check_box, check_coco_file, load_json
from ..evaluation.keypoint_results import check_keypoint_results

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
        data = load_json(ann_file, 'annotation file')
        check_coco_file(data, ann_file)
        return {img['id']: osp.join(img_dir, img['file_name']) for img in data['images']}
    if not osp.isdir(img_dir):
        raise FileNotFoundError(f'image folder {img_dir} not found')
    paths = {}
    for name in sorted(os.listdir(img_dir)):
        stem, ext = osp.splitext(name)
        if ext.lower() in IMAGE_EXTENSIONS and stem.isdigit():
            paths[int(stem)] = osp.join(img_dir, name)
    if not paths:
        raise FileNotFoundError(f'{img_dir}: no image is named by its id (as COCO\'s '
                                '000000000785.jpg): give the annotation file that lists them')
    return paths


def _input_pose_info(result: dict, index: int, num_joints: int, image_paths: Dict[int, str],
                     source: str) -> dict:
    """The data info of one (checked) result for the refiner's ``refine_pipeline``."""
    img_path = image_paths[result['image_id']]
    if not osp.isfile(img_path):
        raise FileNotFoundError(f'{source}: result {index} refers to image '
                                f'{result["image_id"]}, not found ({img_path})')
    keypoints = np.asarray(result['keypoints'], dtype=np.float32).reshape(num_joints, 3)
    info = dict(img_path=img_path, img_id=result['image_id'], id=index,
                input_pose=keypoints[None, :, :2],
                input_pose_visible=(keypoints[None, :, 2] > 0).astype(np.float32),
                bbox_score=np.array([result['score']], dtype=np.float32))
    if 'bbox' in result:
        info['bbox'] = _person_box(result['bbox'], f'{source}, result {index}')
    return info


def _person_box(bbox, where: str) -> np.ndarray:
    """A result's COCO ``bbox`` (x, y, w, h), checked, as the (1, 4) xyxy box of a data info."""
    check_box(bbox, where)
    x, y, width, height = bbox
    # stricter than an annotation's box, which may be empty: a crop needs a width and a height
    if width <= 0 or height <= 0:
        raise InvalidInputError(f'{where}: bbox {bbox} has no area to crop')
    return np.array([[x, y, x + width, y + height]], dtype=np.float32)


def refine_results(model: torch.nn.Module, results: List[dict], img_dir: str,
                   batch_size: int = 16, image_paths: Optional[Dict[int, str]] = None,
                   source: str = 'results') -> List[dict]:
    """Refine COCO keypoint results; the output matches the input but for the joints' (x, y).

    Joints with score 0 are missing from the input pose (rendered as empty maps) but still get
    the refiner's estimate. A result's ``bbox`` (x, y, w, h; optional, as MMPose writes it) is
    the box its pose was estimated in, which a refiner whose crop keeps a given box crops around.
    ``image_paths`` maps image ids to files (default: :func:`image_paths_by_id` of ``img_dir``);
    ``source`` names the results in error messages.
    """
    if batch_size < 1:
        raise ValueError(f'batch_size must be at least 1, got {batch_size}')
    num_joints = model.dataset_meta['num_keypoints']
    image_paths = image_paths if image_paths is not None else image_paths_by_id(img_dir)
    check_keypoint_results(results, image_paths.keys(), num_joints, source)
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
    results = load_json(results_file, 'keypoint results file')
    refined = refine_results(model, results, img_dir, batch_size=batch_size,
                             image_paths=image_paths_by_id(img_dir, ann_file),
                             source=results_file)
    # Written whole or not at all (the plugin's AtomicLocalBackend): a kill mid-write cannot
    # truncate the results, even when out_file is results_file.
    dump(refined, out_file, file_format='json')
    return refined

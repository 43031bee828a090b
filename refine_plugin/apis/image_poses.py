"""Poses of the given persons in one image: pose model or ensemble, then optionally PoseFix."""
from typing import Optional

import numpy as np
from mmengine.structures import InstanceData

from mmpose.apis import inference_topdown
from mmpose.structures import PoseDataSample, merge_data_samples
from .posefix import refine_results


def estimate_image_poses(pose_model, img: np.ndarray, boxes: np.ndarray, refiner=None,
                         img_path: Optional[str] = None) -> PoseDataSample:
    """One sample holding every person's pose; ``boxes`` is ``(N, 5)`` xyxy + score.

    ``refiner`` (a PoseFix model) re-reads the image from ``img_path``, which must then be
    ``img`` saved to a file.
    """
    if len(boxes) == 0:
        # inference_topdown would take the whole image for one person
        sample = PoseDataSample(pred_instances=InstanceData(
            bboxes=np.zeros((0, 4), np.float32), bbox_scores=np.zeros(0, np.float32),
            keypoints=np.zeros((0, pose_model.dataset_meta['num_keypoints'], 2), np.float32),
            keypoint_scores=np.zeros((0, pose_model.dataset_meta['num_keypoints']), np.float32)))
        sample.set_metainfo(dict(img_shape=img.shape[:2], ori_shape=img.shape[:2]))
        return sample
    sample = merge_data_samples(inference_topdown(pose_model, img, boxes[:, :4]))
    sample.pred_instances.bbox_scores = boxes[:, 4]
    if refiner is not None:
        _refine(sample.pred_instances, refiner, img_path)
    return sample


def _refine(instances: InstanceData, refiner, img_path: str) -> None:
    keypoints = np.concatenate([instances.keypoints, instances.keypoint_scores[..., None]], -1)
    results = [dict(image_id=0, category_id=1, keypoints=k.reshape(-1).tolist(), score=float(s))
               for k, s in zip(keypoints, instances.bbox_scores)]
    refined = refine_results(refiner, results, img_dir=None, image_paths={0: img_path},
                             source=img_path)
    num_keypoints = instances.keypoints.shape[1]
    instances.keypoints = np.array(
        [np.reshape(r['keypoints'], (num_keypoints, 3))[:, :2] for r in refined], np.float32)

"""Person boxes for the demo: from an MMDetection detector or from a detection results file."""
import json
from collections import defaultdict
from typing import Dict

import numpy as np

from mmpose.evaluation.functional import nms


def init_person_detector(config: str, checkpoint: str, device: str = 'cpu'):
    """An MMDetection detector whose test pipeline also builds when MMPose's scope is current."""
    from mmdet.apis import init_detector
    from mmpose.utils import adapt_mmdet_pipeline
    detector = init_detector(config, checkpoint, device=device)
    detector.cfg = adapt_mmdet_pipeline(detector.cfg)
    return detector


def detect_persons(detector, img: np.ndarray, det_cat_id: int = 0, bbox_thr: float = 0.3,
                   nms_thr: float = 0.3) -> np.ndarray:
    """``(N, 5)`` boxes ``x1, y1, x2, y2, score`` of class ``det_cat_id``, as MMPose's demo."""
    from mmdet.apis import inference_detector
    instances = inference_detector(detector, img).pred_instances.cpu().numpy()
    boxes = np.concatenate([instances.bboxes, instances.scores[:, None]], axis=1)
    boxes = boxes[(instances.labels == det_cat_id) & (instances.scores > bbox_thr)]
    return boxes[nms(boxes, nms_thr)] if len(boxes) else boxes.reshape(0, 5)


def load_person_boxes(boxes_file: str, bbox_thr: float = 0.0) -> Dict[int, np.ndarray]:
    """Image id -> ``(N, 5)`` xyxy boxes with scores from COCO detection results (xywh boxes).

    The demo's image id of a video frame is its index, of an image its numeric file name.
    """
    try:
        with open(boxes_file) as f:
            detections = json.load(f)
    except (OSError, json.JSONDecodeError) as error:
        raise ValueError(f'cannot read the boxes file {boxes_file}: {error}') from error
    if not isinstance(detections, list):
        raise ValueError(f'{boxes_file}: expected a list of COCO detection results')
    boxes = defaultdict(list)
    for index, det in enumerate(detections):
        if not isinstance(det, dict) or any(k not in det for k in ('image_id', 'bbox', 'score')):
            raise ValueError(f'{boxes_file}: detection {index} needs image_id, bbox and score')
        if len(det['bbox']) != 4:
            raise ValueError(f'{boxes_file}: detection {index} bbox must be [x, y, w, h]')
        if det.get('category_id', 1) != 1 or det['score'] < bbox_thr:
            continue
        x, y, w, h = det['bbox']
        boxes[int(det['image_id'])].append([x, y, x + w, y + h, det['score']])
    return {image_id: np.array(b, dtype=np.float32) for image_id, b in boxes.items()}

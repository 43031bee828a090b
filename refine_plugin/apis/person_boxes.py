"""Person boxes for the demo: from an MMDetection detector or from a detection results file."""
from collections import defaultdict
from typing import Dict

import numpy as np

from mmpose.evaluation.functional import nms
from ..datasets.input_checks import (InvalidInputError, check_detection_results,
                                     load_json)


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
    detections = load_json(boxes_file, 'boxes file')
    # No ground truth to check the image ids against (the demo's inputs have none), and
    # category_id may be left out of a file of person boxes.
    check_detection_results(detections, None, boxes_file, fields=('image_id', 'bbox', 'score'))
    boxes = defaultdict(list)
    for index, det in enumerate(detections):
        if not isinstance(det['image_id'], int) or isinstance(det['image_id'], bool):
            raise InvalidInputError(f'{boxes_file}, detection {index}: image_id must be an '
                                    f'integer, got {det["image_id"]!r}')
        if det.get('category_id', 1) != 1 or det['score'] < bbox_thr:
            continue
        x, y, w, h = det['bbox']
        boxes[det['image_id']].append([x, y, x + w, y + h, det['score']])
    return {image_id: np.array(b, dtype=np.float32) for image_id, b in boxes.items()}

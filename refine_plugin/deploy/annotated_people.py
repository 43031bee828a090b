"""The annotated people of a COCO keypoint file, image by image, with their boxes as xyxy, and the
AP and agreement of deployed models' keypoints on them."""
import os.path as osp
from collections import defaultdict

import cv2
import numpy as np

from ..apis.coco_evaluation import coco_ap, count_labelled_keypoints, load_ground_truth


def annotated_people(ann_file: str, img_dir: str):
    """Yield ``(image id, BGR image, (N, 4) xyxy boxes)`` for each image with annotated people.

    People are the annotations with a labelled keypoint. The file is checked as ``coco_ap``
    checks it, so that a bad one fails before any model runs; that, and a missing or unreadable
    image, raise a ``ValueError`` naming the file and the item.
    """
    coco = load_ground_truth(ann_file)
    file_names = {image['id']: image['file_name'] for image in coco['images']}
    people_of = defaultdict(list)
    for ann in coco.get('annotations', []):
        if count_labelled_keypoints(ann) > 0:
            people_of[ann['image_id']].append(ann['bbox'])
    for image_id, boxes in people_of.items():
        path = osp.join(img_dir, file_names[image_id])
        image = cv2.imread(path)
        if image is None:
            raise ValueError(f'{ann_file}: image {image_id} ({path}) is missing or unreadable')
        yield image_id, image, np.array([[x, y, x + w, y + h] for x, y, w, h in boxes],
                                        np.float32)


def predict_annotated_people(inferencer, ann_file: str, img_dir: str):
    """(COCO keypoint results, keypoints ``(N, K, 2)``) of a ``TopdownHeatmapInferencer`` on every
    annotated person, in ``annotated_people`` order. A result's score is its mean keypoint score
    (the boxes are the ground truth's)."""
    results, all_keypoints = [], []
    for image_id, image, bboxes in annotated_people(ann_file, img_dir):
        keypoints, scores = inferencer(image, bboxes)
        for person, person_scores in zip(keypoints, scores):
            results.append(dict(
                image_id=image_id, category_id=1, score=float(person_scores.mean()),
                keypoints=np.concatenate([person, person_scores[:, None]], 1).ravel().tolist()))
        all_keypoints.append(keypoints)
    return results, np.concatenate(all_keypoints)


def print_agreement_table(ann_file: str, predictions):
    """Print each prediction's AP on ``ann_file`` and how far (px) its keypoints lie from the first
    one's. ``predictions``: ``(name, results, keypoints)`` from ``predict_annotated_people``."""
    print('| model | AP | AP50 | AP75 | AR | px from first: median | p95 | max | within 0.5 px |')
    print('|---|---|---|---|---|---|---|---|---|')
    reference = None
    for name, results, keypoints in predictions:
        stats = coco_ap(ann_file, results)
        reference = keypoints if reference is None else reference
        distance = np.linalg.norm(keypoints - reference, axis=-1)
        print(f"| {name} | {stats['AP']:.4f} | {stats['AP50']:.4f} | {stats['AP75']:.4f} | "
              f"{stats['AR']:.4f} | {np.median(distance):.2f} | "
              f'{np.percentile(distance, 95):.2f} | {distance.max():.2f} | '
              f'{100 * np.mean(distance <= 0.5):.1f}% |', flush=True)

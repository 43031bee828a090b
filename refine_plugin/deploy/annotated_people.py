"""The annotated people of a COCO keypoint file, image by image, with their boxes as xyxy."""
import json
import os.path as osp
from collections import defaultdict

import cv2
import numpy as np


def annotated_people(ann_file: str, img_dir: str):
    """Yield ``(image id, BGR image, (N, 4) xyxy boxes)`` for each image with annotated people.

    People are the annotations with keypoints. Raises a ``ValueError`` naming the file and item for
    an annotation whose image is not in the image list, or an image that is missing or unreadable.
    """
    with open(ann_file) as f:
        coco = json.load(f)
    file_names = {image['id']: image['file_name'] for image in coco['images']}
    people_of = defaultdict(list)
    for ann in coco['annotations']:
        if ann.get('num_keypoints', 0) == 0:
            continue
        if ann['image_id'] not in file_names:
            raise ValueError(f'{ann_file}: annotation {ann["id"]} refers to image '
                             f'{ann["image_id"]}, which is not in its image list')
        people_of[ann['image_id']].append(ann['bbox'])
    for image_id, boxes in people_of.items():
        path = osp.join(img_dir, file_names[image_id])
        image = cv2.imread(path)
        if image is None:
            raise ValueError(f'{ann_file}: image {image_id} ({path}) is missing or unreadable')
        yield image_id, image, np.array([[x, y, x + w, y + h] for x, y, w, h in boxes],
                                        np.float32)

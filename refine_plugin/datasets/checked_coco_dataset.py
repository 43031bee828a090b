"""``CocoDataset`` that refuses bad input up front, naming the file and the item."""
import os.path as osp

from mmpose.datasets import CocoDataset
from mmpose.registry import DATASETS

from .input_checks import (check_coco_file, check_detection_results, check_image_file,
                           check_person_annotation, load_json)


@DATASETS.register_module()
class CheckedCocoDataset(CocoDataset):
    """MMPose's ``CocoDataset`` with the checks of ``input_checks`` applied while it loads.

    The annotation file's structure is checked (every annotation with an id and a category, on a
    listed image; no image id or annotation id twice); every annotation before MMPose parses it
    (keypoints present, their count, finite keypoints and box, no negative box size); every local
    image once, before training starts (exists, readable, starts like an image); the annotation
    and ``bbox_file`` JSON files, local or remote, are parsed with errors that name them, and
    every detection of ``bbox_file`` must be on a ground-truth image. With a ``bbox_file`` the
    images checked are those of its person detections. Takes ``CocoDataset``'s arguments, plus
    ``check_images`` to skip the image checks.
    """

    def __init__(self, *args, check_images=True, **kwargs):
        self.check_images = check_images
        self._checked_image_ids = set()
        super().__init__(*args, **kwargs)

    def _load_annotations(self):
        # Parsed here first, so that a corrupt file is reported with its path; MMPose then parses
        # it again into its COCO index.
        check_coco_file(load_json(self.ann_file, 'annotation file'), self.ann_file)
        return super()._load_annotations()

    def parse_data_info(self, raw_data_info):
        ann, img = raw_data_info['raw_ann_info'], raw_data_info['raw_img_info']
        self._check_annotation(ann)
        self._check_image(img['img_id'], img['img_path'])
        return super().parse_data_info(raw_data_info)

    def _check_annotation(self, ann):
        # MMPose silently skips an annotation without bbox or keypoints; in a keypoint file that
        # is a misspelt key or the wrong file, so it is an error here.
        where = f'{self.ann_file}, annotation {ann.get("id")} (image {ann.get("image_id")})'
        check_person_annotation(ann, self.metainfo['num_keypoints'], where)

    def _check_image(self, img_id, img_path):
        if self.check_images and img_id not in self._checked_image_ids:
            # Remote storage (a URI prefix) is read through MMEngine's file backends instead.
            if '://' not in img_path:
                check_image_file(img_path, f'{self.ann_file}, image {img_id}')
            self._checked_image_ids.add(img_id)

    def _load_detection_results(self):
        gt = load_json(self.ann_file, 'annotation file')
        check_coco_file(gt, self.ann_file)
        detections = load_json(self.bbox_file, 'detection results file')
        check_detection_results(detections, [img['id'] for img in gt['images']],
                                self.bbox_file)
        # MMPose's detection path never calls parse_data_info, so the checks it makes there are
        # made here: on the ground truth (CocoMetric scores against it) and on the images of the
        # person detections, the ones MMPose keeps and reads (in detection order, so the error
        # names the first bad one).
        for ann in gt.get('annotations', []):
            self._check_annotation(ann)
        file_names = {img['id']: img['file_name'] for img in gt['images']}
        for img_id in dict.fromkeys(det['image_id'] for det in detections
                                    if det['category_id'] == 1):
            self._check_image(img_id, osp.join(self.data_prefix['img'], file_names[img_id]))
        return super()._load_detection_results()

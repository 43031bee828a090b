"""AI Challenger persons as COCO-17 top-down samples, for COCO + AIC joint training."""
import logging
import os.path as osp
from typing import List, Optional, Tuple

from mmengine.logging import print_log
from mmpose.datasets.datasets.base import BaseCocoStyleDataset
from mmpose.registry import DATASETS

from .aic_format import COCO_METAINFO, load_aic_as_coco


@DATASETS.register_module()
class AicCocoDataset(BaseCocoStyleDataset):
    """AI Challenger read from either of its formats, yielding COCO-17 samples.

    The 12 AIC limb joints go to their COCO indices, the 5 face joints are unlabelled (weight 0),
    head top and neck are dropped. ``keypoints_visible`` follows MMPose (1 labelled, 0 not);
    ``raw_ann_info`` keeps COCO's visibility (2 visible, 1 occluded, 0 unlabelled).

    MMPose's ``AicDataset`` + ``KeypointConverter`` do the mapping for its COCO-style
    conversion only; this class also reads the original AIC release, rejects bad records with an
    error naming the file and the record, and skips (and logs the count of) persons none of whose
    12 shared joints is labelled, which would otherwise train as all-zero-weight COCO samples.

    Args:
        ann_format: ``'original'`` (the AIC release), ``'coco'`` (MMPose's ``aic_train.json``)
            or ``'auto'`` (detected from the content).
        backend_args: MMEngine file backend arguments for the annotation file and images.
        **kwargs: as :class:`BaseCocoStyleDataset`, but without ``bbox_file``: AIC is only
            trained on.
    """

    METAINFO = COCO_METAINFO

    def __init__(self, ann_format: str = 'auto', backend_args: Optional[dict] = None,
                 **kwargs):
        if kwargs.get('bbox_file'):
            raise ValueError(f'{type(self).__name__} is a training set: bbox_file is not '
                             'supported')
        self.ann_format = ann_format
        self.backend_args = backend_args
        super().__init__(**kwargs)

    def _load_annotations(self) -> Tuple[List[dict], List[dict]]:
        """Instances and images of the AIC file, as MMPose's COCO loader gives them."""
        coco, num_skipped = load_aic_as_coco(self.ann_file, self.data_prefix['img'],
                                             self.ann_format, self.backend_args)
        if num_skipped:
            print_log(f'{self.ann_file}: skipped {num_skipped} of '
                      f'{num_skipped + len(coco["annotations"])} persons without a labelled '
                      'COCO joint', logger='current', level=logging.WARNING)
        image_list = [
            dict(img, img_id=img['id'], img_path=osp.join(self.data_prefix['img'],
                                                          img['file_name']))
            for img in coco['images'] if img['id'] % self.sample_interval == 0
        ]
        images_by_id = {img['img_id']: img for img in image_list}
        instance_list = [
            self.parse_data_info(dict(raw_ann_info=ann, raw_img_info=images_by_id[ann['image_id']]))
            for ann in coco['annotations'] if ann['image_id'] in images_by_id
        ]
        return instance_list, image_list

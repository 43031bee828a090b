"""COCO AP of a results list against a ground-truth file, with pycocotools (the official code).

Every step of the pipeline is scored by the same evaluator, so the rows of its AP table compare.
"""
import contextlib
import io
from typing import Dict, List, Union

from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval, Params

from ..datasets.input_checks import (InvalidInputError, check_coco_file, check_detection_results,
                                     check_person_annotation, is_finite_number, load_json)
from ..evaluation.keypoint_results import check_keypoint_results

_KEYPOINT_STATS = ('AP', 'AP50', 'AP75', 'APm', 'APl', 'AR', 'AR50', 'AR75', 'ARm', 'ARl')
_BBOX_STATS = ('AP', 'AP50', 'AP75', 'APs', 'APm', 'APl', 'AR1', 'AR10', 'AR', 'ARs', 'ARm',
               'ARl')
# COCOeval's OKS has one sigma per COCO person keypoint: another count fails in numpy
# broadcasting deep inside it.
_NUM_KEYPOINTS = len(Params(iouType='keypoints').kpt_oks_sigmas)
_PERSON = 1  # COCO's person category id, the only category scored


def load_ground_truth(ann_file: str) -> dict:
    """The COCO keypoint file ``ann_file``, checked for what COCOeval reads.

    A file with annotations needs a person category (id 1) with COCO's 17 keypoints, and every
    annotation is checked as ``check_person_annotation`` checks it, with a finite ``area`` (the
    OKS scale) and an ``iscrowd``, which COCOeval reads without a default. An image list without
    annotations (test-dev's) is returned as it is.
    """
    data = load_json(ann_file, 'annotation file')
    check_coco_file(data, ann_file)
    if data.get('annotations'):
        _check_person_category(data, ann_file)
        for ann in data['annotations']:
            where = f'{ann_file}, annotation {ann["id"]} (image {ann["image_id"]})'
            check_person_annotation(ann, _NUM_KEYPOINTS, where)
            _check_evaluated_fields(ann, where)
    return data


def _check_person_category(data: dict, path: str) -> None:
    categories = data['categories'] if isinstance(data.get('categories'), list) else []
    person = next((cat for cat in categories
                   if isinstance(cat, dict) and cat.get('id') == _PERSON), None)
    if person is None or not isinstance(person.get('keypoints'), list):
        raise InvalidInputError(
            f'{path}: no person category (id {_PERSON}) with "keypoints" in "categories" (a COCO '
            'keypoint file, such as person_keypoints_val2017.json, is needed)')
    if len(person['keypoints']) != _NUM_KEYPOINTS:
        raise InvalidInputError(
            f'{path}: the person category has {len(person["keypoints"])} keypoints; COCO\'s '
            f'keypoint evaluation scores its {_NUM_KEYPOINTS}')


def _check_evaluated_fields(ann: dict, where: str) -> None:
    # The OKS scale is a mask area: MMPose's stand-in for a missing one (0.53 x the box area)
    # would change the AP, so a missing area is refused rather than made up.
    if not is_finite_number(ann.get('area')):
        raise InvalidInputError(f'{where}: area (the OKS scale) must be a finite number, got '
                                f'{ann.get("area")!r:.100}')
    if 'iscrowd' not in ann:
        raise InvalidInputError(f'{where}: no "iscrowd" (0 for a person, 1 for a crowd region)')


def count_labelled_keypoints(ann: dict) -> int:
    """The keypoints of a checked annotation that are labelled (v > 0): COCO's ``num_keypoints``,
    which is optional in the files MMPose reads."""
    return sum(v > 0 for v in ann['keypoints'][2::3])


def has_keypoint_annotations(ann_file: str) -> bool:
    """Whether ``ann_file`` holds ground truth, a person with a labelled keypoint (test-dev's
    image lists hold none). The file is checked as ``coco_ap`` reads it, so that the pipeline
    fails on bad ground truth before its pose step rather than after it."""
    return any(count_labelled_keypoints(ann) > 0
               for ann in load_ground_truth(ann_file).get('annotations', []))


def _coco_index(data: dict) -> COCO:
    """pycocotools' index of checked ground truth. COCOeval ignores the persons whose
    ``num_keypoints`` is 0 and has no default for it; as COCO defines it as the count of labelled
    keypoints, it is derived where missing (exactly) rather than refused."""
    for ann in data['annotations']:
        ann.setdefault('num_keypoints', count_labelled_keypoints(ann))
    gt = COCO()
    gt.dataset = data
    gt.createIndex()
    return gt


def coco_ap(gt_file: str, results: Union[str, List[dict]], iou_type: str = 'keypoints'
            ) -> Dict[str, float]:
    """COCO stats of ``results`` (a results file or list) for ``iou_type`` keypoints or bbox,
    against the ground truth ``gt_file`` checked by ``load_ground_truth``."""
    if iou_type not in ('keypoints', 'bbox'):
        raise ValueError(f'iou_type must be "keypoints" or "bbox", got {iou_type!r}')
    data = load_ground_truth(gt_file)
    if not data.get('annotations'):
        raise InvalidInputError(f'{gt_file}: no annotations, so no ground truth to evaluate '
                                'against (an image list, such as test-dev\'s?)')
    source = results if isinstance(results, str) else 'keypoint results'
    if isinstance(results, str):
        results = load_json(results, 'results file')
    # pycocotools prints its progress and tables: the pipeline prints one table of its own
    with contextlib.redirect_stdout(io.StringIO()):
        gt = _coco_index(data)
        # loadRes' own error on a foreign image id names neither the file nor the result
        if iou_type == 'keypoints':
            check_keypoint_results(results, gt.getImgIds(), _NUM_KEYPOINTS, source)
        else:
            check_detection_results(results, gt.getImgIds(), source)
            results = [r for r in results if r['category_id'] == _PERSON]
        evaluation = COCOeval(gt, gt.loadRes(results), iou_type)
        evaluation.params.catIds = [_PERSON]
        evaluation.evaluate()
        evaluation.accumulate()
        evaluation.summarize()
    names = _KEYPOINT_STATS if iou_type == 'keypoints' else _BBOX_STATS
    return {name: float(value) for name, value in zip(names, evaluation.stats)}

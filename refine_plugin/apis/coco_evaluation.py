"""COCO AP of a results list against a ground-truth file, with pycocotools (the official code).

Every step of the pipeline is scored by the same evaluator, so the rows of its AP table compare.
"""
import contextlib
import io
from typing import Dict, List, Union

from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from ..datasets.input_checks import check_coco_file, check_detection_results, load_json
from ..evaluation.keypoint_results import check_keypoint_results

_KEYPOINT_STATS = ('AP', 'AP50', 'AP75', 'APm', 'APl', 'AR', 'AR50', 'AR75', 'ARm', 'ARl')
_BBOX_STATS = ('AP', 'AP50', 'AP75', 'APs', 'APm', 'APl', 'AR1', 'AR10', 'AR', 'ARs', 'ARm',
               'ARl')


def has_keypoint_annotations(ann_file: str) -> bool:
    """Whether ``ann_file`` holds ground truth (test-dev's image lists hold none)."""
    data = load_json(ann_file, 'annotation file')
    check_coco_file(data, ann_file)
    return any(ann.get('num_keypoints', 0) > 0 for ann in data.get('annotations', []))


def coco_ap(gt_file: str, results: Union[str, List[dict]], iou_type: str = 'keypoints'
            ) -> Dict[str, float]:
    """COCO stats of ``results`` (a results file or list) for ``iou_type`` keypoints or bbox."""
    if iou_type not in ('keypoints', 'bbox'):
        raise ValueError(f'iou_type must be "keypoints" or "bbox", got {iou_type!r}')
    source = results if isinstance(results, str) else 'keypoint results'
    if isinstance(results, str):
        results = load_json(results, 'results file')
    # pycocotools prints its progress and tables: the pipeline prints one table of its own
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(gt_file)
        # loadRes' own error on a foreign image id names neither the file nor the result
        if iou_type == 'keypoints':
            check_keypoint_results(results, gt.getImgIds(),
                                   len(gt.loadCats(1)[0]['keypoints']), source)
        else:
            check_detection_results(results, gt.getImgIds(), source)
            results = [r for r in results if r['category_id'] == 1]
        evaluation = COCOeval(gt, gt.loadRes(results), iou_type)
        evaluation.params.catIds = [1]
        evaluation.evaluate()
        evaluation.accumulate()
        evaluation.summarize()
    names = _KEYPOINT_STATS if iou_type == 'keypoints' else _BBOX_STATS
    return {name: float(value) for name, value in zip(names, evaluation.stats)}

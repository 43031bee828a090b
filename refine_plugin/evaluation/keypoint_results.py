"""Checks that a list of keypoint results is what the COCO evaluation server accepts."""
from typing import Collection, Sequence

from ..datasets.input_checks import is_finite_number

_FIELDS = ('image_id', 'category_id', 'keypoints', 'score')


def check_keypoint_results(results: Sequence[dict], image_ids: Collection[int],
                           num_keypoints: int, source: str = 'keypoint results') -> None:
    """Raise ``ValueError`` naming ``source`` and the entry unless every result is well-formed.

    Well-formed: a non-empty list of dicts with an ``image_id`` from ``image_ids``,
    ``category_id`` 1 (person), ``keypoints`` a flat list of ``3 * num_keypoints`` finite numbers
    and a finite ``score``, as ``COCO.loadRes`` and the COCO server read them.
    """
    if not isinstance(results, (list, tuple)) or not results:
        raise ValueError(f'{source}: expected a non-empty list of results, got {results!r:.80}')
    image_ids = set(image_ids)
    for index, result in enumerate(results):
        where = f'{source}, result {index}'
        if not isinstance(result, dict) or any(key not in result for key in _FIELDS):
            raise ValueError(f'{where}: needs the fields {_FIELDS}, got {result!r:.200}')
        if result['image_id'] not in image_ids:
            raise ValueError(f'{where}: image_id {result["image_id"]!r} is not in the image list')
        if result['category_id'] != 1:
            raise ValueError(f'{where}: category_id must be 1 (person), got '
                             f'{result["category_id"]!r}')
        keypoints = result['keypoints']
        if not isinstance(keypoints, (list, tuple)) or len(keypoints) != 3 * num_keypoints:
            raise ValueError(f'{where}: keypoints must be a flat list of {3 * num_keypoints} '
                             f'numbers (x, y, score per keypoint), got {keypoints!r:.200}')
        if not all(is_finite_number(value) for value in keypoints):
            raise ValueError(f'{where}: keypoints hold a non-finite or non-numeric value')
        if not is_finite_number(result['score']):
            raise ValueError(f'{where}: score must be a finite number, got {result["score"]!r}')

"""Checks of COCO-format inputs that fail with an error naming the file and the item.

MMPose parses annotations without looking at them: a keypoint list of the wrong length is reshaped
into a different number of joints (or fails deep in numpy), NaN and negative-size boxes flow into
the affine transforms, a corrupt JSON file raises ``JSONDecodeError`` without its path, a detection
whose image is not in the ground truth raises a bare ``KeyError``, and a missing image surfaces
only when a dataloader worker reaches it, mid-epoch.
"""
import json
import math
import os.path as osp
from numbers import Real

from mmengine import fileio

# The first bytes of the image formats OpenCV decodes for the datasets (JPEG, PNG, BMP, TIFF, WebP
# at offset 8 after 'RIFF'). Not GIF: this OpenCV build has no GIF decoder (cv2.imread returns
# None), so a GIF would pass here and fail later in MMPose's LoadImage.
_IMAGE_SIGNATURES = (b'\xff\xd8\xff', b'\x89PNG\r\n\x1a\n', b'BM', b'II*\x00', b'MM\x00*',
                     b'RIFF')


_DETECTION_FIELDS = ('image_id', 'category_id', 'bbox', 'score')
# What an annotation needs besides id and image_id (COCO's index is keyed by both): MMPose's
# parse_data_info reads its category.
_ANNOTATION_FIELDS = ('category_id',)


class InvalidInputError(ValueError):
    """An input file, or an item in it, that cannot be used; the message names both."""


def load_json(path, what, backend_args=None):
    """Parse the JSON file ``path`` (described as ``what`` in errors), on local disk or on the
    MMEngine file backend its prefix (``s3://``, ``http://``, ...) or ``backend_args`` select, as
    MMPose reads it."""
    if not fileio.exists(path, backend_args=backend_args):
        raise InvalidInputError(f'{path}: {what} not found')
    try:
        return json.loads(fileio.get_text(path, encoding='utf-8', backend_args=backend_args))
    except IsADirectoryError:
        raise InvalidInputError(f'{path}: {what} is a directory, not a file') from None
    except json.JSONDecodeError as e:
        raise InvalidInputError(f'{path}: {what} is not valid JSON (line {e.lineno}, column '
                                f'{e.colno}: {e.msg})') from None
    except UnicodeDecodeError as e:
        raise InvalidInputError(f'{path}: {what} is not UTF-8 text ({e.reason})') from None


def check_coco_file(data, path, annotation_fields=_ANNOTATION_FIELDS):
    """A COCO annotation file: ``images`` with ``id`` and ``file_name``, and ``annotations`` (none
    in an image list such as test-dev's) with ``id``, ``image_id`` and ``annotation_fields``, each
    on one of those images; no image id or annotation id twice. COCO's index would silently drop
    an annotation of an unknown image, and keeps only the last entry of a repeated id, so persons
    would move to another image or be lost."""
    if not isinstance(data, dict):
        raise InvalidInputError(f'{path}: a COCO annotation file holds a JSON object with '
                                f'"images" and "annotations", got a {type(data).__name__}')
    if not isinstance(data.get('images'), list):
        raise InvalidInputError(f'{path}: no "images" list')
    if not isinstance(data.get('annotations', []), list):
        raise InvalidInputError(f'{path}: "annotations" is not a list')
    image_ids = set()
    for index, img in enumerate(data['images']):
        if not isinstance(img, dict) or 'id' not in img or 'file_name' not in img:
            raise InvalidInputError(f'{path}, image {index}: needs id and file_name, '
                                    f'got {img!r:.200}')
        if img['id'] in image_ids:
            raise InvalidInputError(f'{path}, image {index}: image id {img["id"]!r} is repeated')
        image_ids.add(img['id'])
    fields = ('id', 'image_id', *annotation_fields)
    ann_ids = set()
    for index, ann in enumerate(data.get('annotations', [])):
        if not isinstance(ann, dict) or any(field not in ann for field in fields):
            raise InvalidInputError(f'{path}, annotation {index}: needs {", ".join(fields)}, '
                                    f'got {ann!r:.200}')
        if ann['id'] in ann_ids:
            raise InvalidInputError(f'{path}, annotation {index}: annotation id {ann["id"]!r} is '
                                    'repeated')
        ann_ids.add(ann['id'])
        if ann['image_id'] not in image_ids:
            raise InvalidInputError(f'{path}, annotation {ann["id"]}: image_id '
                                    f'{ann["image_id"]!r} is not in "images"')


def is_finite_number(value):
    return isinstance(value, Real) and not isinstance(value, bool) and math.isfinite(value)


def check_box(bbox, where):
    """A COCO ``[x, y, w, h]`` box: four finite numbers, no negative size."""
    if not isinstance(bbox, (list, tuple)) or len(bbox) != 4:
        raise InvalidInputError(f'{where}: bbox must be [x, y, w, h], got {bbox!r:.100}')
    if not all(is_finite_number(v) for v in bbox):
        raise InvalidInputError(f'{where}: bbox {bbox} holds a NaN, infinite or non-numeric value')
    if bbox[2] < 0 or bbox[3] < 0:
        raise InvalidInputError(f'{where}: bbox {bbox} has a negative width or height')


def check_person_annotation(ann, num_keypoints, where):
    """A COCO person annotation: ``3 * num_keypoints`` finite keypoint values and a valid box."""
    if 'keypoints' not in ann:
        raise InvalidInputError(f'{where}: no "keypoints" (a COCO keypoint file, such as '
                                'person_keypoints_val2017.json, is needed)')
    keypoints = ann['keypoints']
    if not isinstance(keypoints, (list, tuple)) or len(keypoints) != 3 * num_keypoints:
        count = len(keypoints) if isinstance(keypoints, (list, tuple)) else keypoints
        raise InvalidInputError(
            f'{where}: keypoints must hold {3 * num_keypoints} values ({num_keypoints} keypoints '
            f'as x, y, v), got {count!r:.100}')
    if not all(is_finite_number(v) for v in keypoints):
        raise InvalidInputError(f'{where}: keypoints hold a NaN, infinite or non-numeric value')
    check_box(ann.get('bbox'), where)


def check_image_file(path, where):
    """The image exists, is readable and starts like an image file (a cheap check of every image
    before training; decoding them all would take minutes on COCO)."""
    if not osp.isfile(path):
        raise InvalidInputError(f'{where}: image file {path} not found')
    try:
        with open(path, 'rb') as f:
            head = f.read(12)
    except OSError as e:
        raise InvalidInputError(f'{where}: image file {path} cannot be read ({e.strerror})') \
            from None
    if not head.startswith(_IMAGE_SIGNATURES) or (head.startswith(b'RIFF')
                                                   and head[8:12] != b'WEBP'):
        raise InvalidInputError(f'{where}: {path} is empty or not an image file')


def check_detection_results(detections, image_ids, source, fields=_DETECTION_FIELDS):
    """Person boxes in COCO's results format: a list of detections with ``fields``, a valid box
    and a finite score, every one on an image of ``image_ids`` (the ground truth's; ``None`` when
    there is none to check against)."""
    if not isinstance(detections, list):
        raise InvalidInputError(f'{source}: expected a list of detections, got '
                                f'{type(detections).__name__}')
    image_ids = None if image_ids is None else set(image_ids)
    for index, det in enumerate(detections):
        where = f'{source}, detection {index}'
        if not isinstance(det, dict) or any(k not in det for k in fields):
            raise InvalidInputError(f'{where}: needs {", ".join(fields)}, got {det!r:.200}')
        check_box(det['bbox'], where)
        if not is_finite_number(det['score']):
            raise InvalidInputError(f'{where}: score must be a finite number, got '
                                    f'{det["score"]!r}')
        if image_ids is not None and det['image_id'] not in image_ids:
            raise InvalidInputError(
                f'{where}: image_id {det["image_id"]!r} is not an image of the ground truth')

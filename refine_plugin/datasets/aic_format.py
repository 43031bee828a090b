"""Read AI Challenger keypoint annotations, in either of their formats, as COCO-17 persons.

AI Challenger (AIC) labels 14 joints; its 12 limb joints are also COCO joints, so AIC persons
train a COCO model as COCO persons whose 5 face joints are unlabelled (head top and neck have no
COCO counterpart and are dropped). :class:`AicCocoDataset` and ``tools/dataset_converters/
aic_to_coco.py`` both read through :func:`load_aic_as_coco`, so they agree on every person.

The two formats users have:

- ``'original'``: the AIC release, a JSON list of ``{image_id, url, keypoint_annotations:
  {humanN: [x, y, v] * 14}, human_annotations: {humanN: [x1, y1, x2, y2]}}``, v 1 visible,
  2 occluded, 3 not labelled; images are ``<image_id>.jpg``.
- ``'coco'``: MMPose's COCO-style conversion (``aic_train.json``): 14 keypoints, v in {0, 1, 2}.
"""
import os.path as osp
from collections import defaultdict
from typing import List, Optional, Tuple

from mmengine.fileio import exists, get_local_path
from mmpose.datasets.datasets.utils import parse_pose_metainfo
from PIL import Image, UnidentifiedImageError

from .input_checks import check_box, check_coco_file, is_finite_number, load_json

AIC_FORMATS = ('original', 'coco')
NUM_AIC_KEYPOINTS = 14
COCO_METAINFO = dict(from_file='configs/_base_/datasets/coco.py')
# (AIC index, COCO index) of the 12 limb joints both datasets label.
AIC_TO_COCO = ((0, 6), (1, 8), (2, 10), (3, 5), (4, 7), (5, 9),
               (6, 12), (7, 14), (8, 16), (9, 11), (10, 13), (11, 15))
# The AIC release numbers visibility the other way round from COCO.
ORIGINAL_TO_COCO_VISIBILITY = {1: 2, 2: 1, 3: 0}
# AIC has no masks. COCO's area (the OKS scale) is a mask area, on average 0.53 of the box
# area: the factor MMPose itself uses when a COCO-style annotation has no area.
MASK_TO_BOX_AREA = 0.53
KEYPOINT_VALUES = f'keypoint values ({NUM_AIC_KEYPOINTS} AIC keypoints as x, y, v)'


def coco_person_category() -> dict:
    """COCO's ``person`` category with its 17 keypoint names and 1-based skeleton."""
    meta = parse_pose_metainfo(dict(COCO_METAINFO))
    return dict(
        id=1, name='person', supercategory='person',
        keypoints=[meta['keypoint_id2name'][i] for i in range(meta['num_keypoints'])],
        skeleton=[[a + 1, b + 1] for a, b in meta['skeleton_links']])


def load_aic_as_coco(ann_file: str, img_dir: str, ann_format: str = 'auto',
                     backend_args: Optional[dict] = None) -> Tuple[dict, int]:
    """Read an AIC annotation file as a COCO keypoints dict with 17 keypoints.

    Args:
        ann_file: the AIC annotation file, in either format.
        img_dir: the folder of the images, each of which must exist.
        ann_format: ``'original'``, ``'coco'`` or ``'auto'`` (detected from the content).
        backend_args: MMEngine file backend arguments.

    Returns:
        ``(coco, num_skipped)``: ``coco`` has ``images`` (with their sizes), ``annotations``
        and ``categories`` (COCO's person); ``num_skipped`` counts the persons left out because
        none of their 12 COCO joints is labelled.

    Raises:
        ValueError: a missing, unreadable or corrupt annotation file, an unknown format or a bad
            record, naming the file (and the record).
        FileNotFoundError: a missing image, naming the file and the record.
    """
    if ann_format not in (*AIC_FORMATS, 'auto'):
        raise ValueError(f'{ann_file}: unknown AIC annotation format {ann_format!r}, '
                         f"expected one of {AIC_FORMATS} or 'auto'")
    content = load_json(ann_file, 'AIC annotation file', backend_args)
    if ann_format == 'auto':
        ann_format = detect_aic_format(content, ann_file)
    read = _read_original if ann_format == 'original' else _read_coco_style
    images, persons = read(content, ann_file)
    _resolve_images(images, img_dir, ann_file, backend_args)
    labelled = [person for person in persons if person['num_keypoints'] > 0]
    coco = dict(images=images, annotations=labelled, categories=[coco_person_category()])
    return coco, len(persons) - len(labelled)


def detect_aic_format(content, ann_file: str) -> str:
    """Tell the AIC release (a list of records) from a COCO-style dict."""
    if isinstance(content, list) and (
            not content or isinstance(content[0], dict) and 'keypoint_annotations' in content[0]):
        return 'original'
    if isinstance(content, dict) and 'images' in content and 'annotations' in content:
        return 'coco'
    raise ValueError(
        f'{ann_file}: unknown annotation format: expected the AIC release (a list of records '
        'with "keypoint_annotations") or a COCO-style dict with "images" and "annotations"')


def _read_original(records, ann_file: str) -> Tuple[List[dict], List[dict]]:
    """Images and COCO-17 persons of the AIC release; ids are numbered from 1 in file order."""
    if not isinstance(records, list):
        raise ValueError(f'{ann_file}: not in the original AIC format (a list of records)')
    images, persons = [], []
    for img_id, record in enumerate(records, start=1):
        where = f'{ann_file}: record {img_id - 1} (image_id {_get(record, "image_id")!r})'
        if not (isinstance(record, dict) and 'image_id' in record
                and isinstance(record.get('keypoint_annotations'), dict)
                and isinstance(record.get('human_annotations'), dict)):
            raise ValueError(f'{where}: needs "image_id" and the dicts "keypoint_annotations" '
                             'and "human_annotations"')
        images.append(dict(id=img_id, file_name=f'{record["image_id"]}.jpg'))
        boxes = record['human_annotations']
        for human, values in record['keypoint_annotations'].items():
            where_human = f'{where}, {human}'
            if human not in boxes:
                raise ValueError(f'{where_human}: no box in "human_annotations"')
            x1, y1, x2, y2 = _numbers(boxes[human], 4, 'box values', where_human)
            if x2 < x1 or y2 < y1:
                raise ValueError(f'{where_human}: box [x1, y1, x2, y2] = {boxes[human]} '
                                 'has x2 < x1 or y2 < y1')
            values = _numbers(values, 3 * NUM_AIC_KEYPOINTS, KEYPOINT_VALUES, where_human)
            keypoints = []
            for x, y, v in zip(values[0::3], values[1::3], values[2::3]):
                if v not in ORIGINAL_TO_COCO_VISIBILITY:
                    raise ValueError(f'{where_human}: visibility {v} is not 1, 2 or 3')
                keypoints.append((x, y, ORIGINAL_TO_COCO_VISIBILITY[v]))
            persons.append(_coco17_person(keypoints, [x1, y1, x2 - x1, y2 - y1],
                                          len(persons) + 1, img_id))
    return images, persons


def _read_coco_style(content, ann_file: str) -> Tuple[List[dict], List[dict]]:
    """Images and COCO-17 persons of a COCO-style AIC file, persons grouped by image."""
    if not (isinstance(content, dict) and 'images' in content and 'annotations' in content):
        raise ValueError(f'{ann_file}: not a COCO-style file (a dict with "images" and '
                         '"annotations")')
    # Every person becomes a COCO person (category 1) here, so no category is needed.
    check_coco_file(content, ann_file, annotation_fields=())
    images = [{key: img[key] for key in ('id', 'file_name', 'width', 'height') if key in img}
              for img in content['images']]
    persons_by_image = defaultdict(list)
    for ann in content['annotations']:
        where = f'{ann_file}: annotation id {ann["id"]!r} (image_id {ann["image_id"]!r})'
        check_box(ann.get('bbox'), where)
        x, y, w, h = ann['bbox']
        values = _numbers(ann.get('keypoints'), 3 * NUM_AIC_KEYPOINTS, KEYPOINT_VALUES, where)
        keypoints = list(zip(values[0::3], values[1::3], values[2::3]))
        if any(v not in (0, 1, 2) for _, _, v in keypoints):
            raise ValueError(f'{where}: visibility must be 0, 1 or 2')
        persons_by_image[ann['image_id']].append(
            _coco17_person(keypoints, [x, y, w, h], ann['id'], ann['image_id']))
    return images, [person for img in images for person in persons_by_image[img['id']]]


def _coco17_person(aic_keypoints: List[tuple], bbox: List[float], ann_id, img_id) -> dict:
    """A COCO annotation from the 14 AIC ``(x, y, COCO visibility)`` of one person."""
    keypoints = [0] * 3 * 17
    for aic_index, coco_index in AIC_TO_COCO:
        x, y, v = aic_keypoints[aic_index]
        if v > 0:  # COCO stores unlabelled joints as (0, 0, 0)
            keypoints[3 * coco_index:3 * coco_index + 3] = [x, y, v]
    return dict(id=ann_id, image_id=img_id, category_id=1, iscrowd=0, bbox=bbox,
                area=bbox[2] * bbox[3] * MASK_TO_BOX_AREA,
                num_keypoints=sum(v > 0 for v in keypoints[2::3]), keypoints=keypoints)


def _resolve_images(images: List[dict], img_dir: str, ann_file: str,
                    backend_args: Optional[dict]) -> None:
    """Check that every image exists and add the sizes the annotations lack."""
    for img in images:
        path = osp.join(img_dir, img['file_name'])
        where = f'{ann_file}: image {img["file_name"]!r} (id {img["id"]})'
        if not exists(path, backend_args=backend_args):
            raise FileNotFoundError(f'{where}: image file {path} not found')
        if 'width' not in img or 'height' not in img:
            img['width'], img['height'] = _image_size(path, where, backend_args)


def _image_size(path: str, where: str, backend_args: Optional[dict]) -> Tuple[int, int]:
    """Width and height from the image header, without decoding the pixels."""
    with get_local_path(path, backend_args=backend_args) as local_path:
        try:
            with Image.open(local_path) as image:
                return image.size
        except (UnidentifiedImageError, OSError) as error:
            raise ValueError(f'{where}: {path} is not a readable image ({error})') from error


def _numbers(values, length: int, what: str, where: str) -> List[float]:
    """``values`` checked to be a list of ``length`` finite numbers."""
    if not isinstance(values, (list, tuple)) or len(values) != length:
        count = len(values) if isinstance(values, (list, tuple)) else type(values).__name__
        raise ValueError(f'{where}: expected {length} {what}, got {count}')
    for value in values:
        if not is_finite_number(value):
            raise ValueError(f'{where}: {what} must be finite numbers, got {value!r}')
    return list(values)


def _get(record, key: str):
    """``record[key]`` for naming a record in an error, whatever the record is."""
    return record.get(key) if isinstance(record, dict) else None

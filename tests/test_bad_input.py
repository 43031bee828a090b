"""Bad COCO-format input fails up front with an error naming the file and the item."""
import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import refine_plugin  # noqa: F401
from refine_plugin.datasets import CheckedCocoDataset
from refine_plugin.datasets.input_checks import InvalidInputError
from tiny_topdown import write_tiny_config

REPO = Path(__file__).resolve().parents[1]


def _dataset(ann_file, img_dir, **kwargs):
    return CheckedCocoDataset(ann_file=str(ann_file), data_prefix=dict(img=str(img_dir) + '/'),
                              data_mode='topdown', pipeline=[], **kwargs)


@pytest.fixture
def coco_copy(tiny_coco, tmp_path):
    """A copy of tiny_coco's train split (annotations and images) to break."""
    img_dir = tmp_path / 'train'
    shutil.copytree(tiny_coco['train_img'], img_dir)
    ann_file = tmp_path / 'train.json'
    data = json.loads(Path(tiny_coco['train_ann']).read_text())
    return ann_file, img_dir, data


def _broken(coco_copy, edit):
    ann_file, img_dir, data = coco_copy
    target = edit(data)
    ann_file.write_text(json.dumps(data))
    return ann_file, img_dir, target


def test_good_synthetic_and_real_coco_files_load(coco_copy, shared_data):
    ann_file, img_dir, data = coco_copy
    ann_file.write_text(json.dumps(data))
    assert len(_dataset(ann_file, img_dir)) == len(data['annotations'])
    real = _dataset(shared_data / 'coco/test_coco.json', shared_data / 'coco')
    assert {info['img_id'] for info in real} == {785, 40083, 196141, 197388}


def test_missing_image_names_the_image(coco_copy):
    ann_file, img_dir, data = coco_copy
    ann_file.write_text(json.dumps(data))
    image = data['images'][2]
    (img_dir / image['file_name']).unlink()
    with pytest.raises(InvalidInputError) as error:
        _dataset(ann_file, img_dir)
    assert f'{ann_file}, image {image["id"]}' in str(error.value)
    assert f'{img_dir / image["file_name"]} not found' in str(error.value)


@pytest.mark.parametrize('content', [b'', b'<html>404 Not Found</html>'])
def test_unreadable_image_names_the_image(coco_copy, content):
    ann_file, img_dir, data = coco_copy
    ann_file.write_text(json.dumps(data))
    image = data['images'][1]
    (img_dir / image['file_name']).write_bytes(content)
    with pytest.raises(InvalidInputError, match='is empty or not an image file') as error:
        _dataset(ann_file, img_dir)
    assert f'image {image["id"]}: {img_dir / image["file_name"]}' in str(error.value)


def test_corrupt_json_names_the_file_and_position(coco_copy):
    ann_file, img_dir, data = coco_copy
    ann_file.write_text(json.dumps(data)[:-40])  # truncated, as by an interrupted copy
    with pytest.raises(InvalidInputError, match=r'is not valid JSON \(line 1, column') as error:
        _dataset(ann_file, img_dir)
    assert str(ann_file) in str(error.value)


def test_wrong_keypoint_count_names_the_annotation(coco_copy):
    def drop_a_keypoint(data):
        ann = data['annotations'][3]
        ann['keypoints'] = ann['keypoints'][:-3]  # 16 keypoints: MMPose would take 16 joints
        return ann

    ann_file, img_dir, ann = _broken(coco_copy, drop_a_keypoint)
    with pytest.raises(InvalidInputError) as error:
        _dataset(ann_file, img_dir)
    assert (f'{ann_file}, annotation {ann["id"]} (image {ann["image_id"]}): keypoints must hold '
            '51 values (17 keypoints as x, y, v), got 48') in str(error.value)


@pytest.mark.parametrize('bbox, problem', [
    ([10.0, 20.0, math.nan, 40.0], 'holds a NaN, infinite or non-numeric value'),
    ([10.0, 20.0, 30.0, -5.0], 'has a negative width or height'),
])
def test_bad_box_names_the_annotation(coco_copy, bbox, problem):
    def set_box(data):
        ann = data['annotations'][5]
        ann['bbox'] = bbox
        return ann

    ann_file, img_dir, ann = _broken(coco_copy, set_box)  # json writes NaN as the token NaN
    with pytest.raises(InvalidInputError, match=problem) as error:
        _dataset(ann_file, img_dir)
    assert f'{ann_file}, annotation {ann["id"]} (image {ann["image_id"]})' in str(error.value)


def test_detection_results_on_unknown_image_name_the_file_and_detection(shared_data, tmp_path):
    gt_file = shared_data / 'coco/test_coco.json'
    real_boxes = shared_data / 'coco/test_coco_det_AP_H_56.json'
    detections = json.loads(real_boxes.read_text())
    kwargs = dict(test_mode=True)
    good = _dataset(gt_file, shared_data / 'coco', bbox_file=str(real_boxes), **kwargs)
    assert len(good) == sum(det['category_id'] == 1 for det in detections)

    detections[7]['image_id'] = 123456789
    bad_boxes = tmp_path / 'boxes.json'
    bad_boxes.write_text(json.dumps(detections))
    with pytest.raises(InvalidInputError) as error:
        _dataset(gt_file, shared_data / 'coco', bbox_file=str(bad_boxes), **kwargs)
    assert (f'{bad_boxes}, detection 7: image_id 123456789 is not an image of the ground truth'
            in str(error.value))


def test_config_with_unregistered_module_fails_before_anything_is_written(tiny_coco, tmp_path):
    work_dir = tmp_path / 'work'
    config = write_tiny_config(tmp_path / 'typo.py', tiny_coco, work_dir)
    config.write_text(config.read_text().replace("type='ResNet'", "type='ResNett'"))
    env = dict(os.environ, PYTHONPATH=str(REPO))
    result = subprocess.run([sys.executable, str(REPO / 'tools/train.py'), str(config)],
                            env=env, capture_output=True, text=True)
    assert result.returncode != 0
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line == (
        f"refine_plugin.datasets.input_checks.InvalidInputError: {config}: model.backbone.type = "
        "'ResNett' is not a registered module in the 'mmpose' registries; check the spelling, or "
        "add the package that registers it to custom_imports")
    assert not work_dir.exists()

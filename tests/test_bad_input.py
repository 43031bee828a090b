"""Bad COCO-format input fails up front with an error naming the file and the item."""
import json
import math
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from mmengine.config import Config
from PIL import Image

import refine_plugin  # noqa: F401
from refine_plugin.apis.coco_evaluation import coco_ap, has_keypoint_annotations
from refine_plugin.datasets import CheckedCocoDataset, PoseFixCocoDataset
from refine_plugin.datasets.aic_format import load_aic_as_coco
from refine_plugin.datasets.synthetic import is_outdated
from refine_plugin.datasets.input_checks import InvalidInputError
from refine_plugin.deploy.annotated_people import annotated_people
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


@pytest.fixture
def fake_s3(tmp_path, monkeypatch):
    """``s3://bucket/...`` served from ``tmp_path / 'bucket'`` by a backend registered for the
    ``s3`` prefix, as MMEngine's boto3 or petrel backends would serve it."""
    from contextlib import contextmanager

    from mmengine.fileio import io as fileio
    from mmengine.fileio.backends import LocalBackend, prefix_to_backends

    class FakeS3Backend(LocalBackend):
        @staticmethod
        def local(filepath):
            return str(tmp_path / str(filepath).removeprefix('s3://'))

        def get(self, filepath):
            return super().get(self.local(filepath))

        def get_text(self, filepath, encoding='utf-8'):
            return super().get_text(self.local(filepath), encoding)

        def exists(self, filepath):
            return super().exists(self.local(filepath))

        @contextmanager
        def get_local_path(self, filepath):
            yield self.local(filepath)

    monkeypatch.setitem(prefix_to_backends, 's3', FakeS3Backend)
    monkeypatch.setattr(fileio, 'backend_instances', {})
    (tmp_path / 'bucket').mkdir()
    return tmp_path / 'bucket'


def test_annotation_files_on_remote_storage_are_read_and_checked(coco_copy, fake_s3):
    _, img_dir, data = coco_copy
    (fake_s3 / 'train.json').write_text(json.dumps(data))
    assert len(_dataset('s3://bucket/train.json', img_dir)) == len(data['annotations'])
    with pytest.raises(InvalidInputError, match=re.escape('s3://bucket/missing.json: annotation '
                                                          'file not found')):
        _dataset('s3://bucket/missing.json', img_dir)
    (fake_s3 / 'corrupt.json').write_text(json.dumps(data)[:-10])
    with pytest.raises(InvalidInputError, match=re.escape('s3://bucket/corrupt.json: annotation '
                                                          'file is not valid JSON')):
        _dataset('s3://bucket/corrupt.json', img_dir)


def test_a_directory_given_as_annotation_file_is_named(coco_copy):
    _, img_dir, _ = coco_copy
    with pytest.raises(InvalidInputError, match=re.escape(f'{img_dir}: annotation file is a '
                                                          'directory, not a file')):
        _dataset(img_dir, img_dir)


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


@pytest.mark.parametrize('edit, message', [
    (lambda data: data['annotations'][4].update(image_id=999), 'annotation {id}: image_id 999 is '
     'not in "images"'),
    (lambda data: data['annotations'][4].update(keypoint=data['annotations'][4].pop('keypoints')),
     'annotation {id} (image {image_id}): no "keypoints" (a COCO keypoint file'),
    (lambda data: data['annotations'][4].pop('category_id'),
     'annotation 4: needs id, image_id, category_id'),
    # COCO's index is keyed by the annotation id: without one it fails with KeyError: 'id'
    (lambda data: data['annotations'][4].pop('id'), 'annotation 4: needs id, image_id, '
     'category_id'),
    (lambda data: data['images'][0].pop('file_name'), 'image 0: needs id and file_name'),
])
def test_malformed_annotation_file_names_the_item(coco_copy, edit, message):
    ann = coco_copy[2]['annotations'][4]
    ann_file, img_dir, _ = _broken(coco_copy, edit)
    with pytest.raises(InvalidInputError) as error:
        _dataset(ann_file, img_dir)
    assert f'{ann_file}, {message.format(**ann)}' in str(error.value)


@pytest.mark.parametrize('items, item', [('images', 'image'), ('annotations', 'annotation')])
def test_repeated_image_or_annotation_id_names_the_id(coco_copy, items, item):
    def repeat_an_id(data):
        # a second entry with the id of the first: COCO's index would keep only this one,
        # leaving the first image's persons on this image's file, or losing the first person
        data[items].append(dict(data[items][1], id=data[items][0]['id']))
        return len(data[items]) - 1, data[items][0]['id']

    ann_file, img_dir, (index, repeated) = _broken(coco_copy, repeat_an_id)
    with pytest.raises(InvalidInputError, match=re.escape(
            f'{ann_file}, {item} {index}: {item} id {repeated} is repeated')):
        _dataset(ann_file, img_dir)


def test_gif_under_an_image_name_is_refused(coco_copy):
    ann_file, img_dir, data = coco_copy
    ann_file.write_text(json.dumps(data))
    image = data['images'][1]
    path = img_dir / image['file_name']
    Image.open(path).save(path, format='GIF')
    assert cv2.imread(str(path)) is None  # why: MMPose's LoadImage could not read it
    with pytest.raises(InvalidInputError, match=re.escape(
            f'image {image["id"]}: {path} is empty or not an image file')):
        _dataset(ann_file, img_dir)


@pytest.fixture
def coco_images_but(shared_data, tmp_path):
    """A folder linking the shared COCO images but those of the given image ids."""
    def link(*missing_ids):
        img_dir = tmp_path / 'images'
        img_dir.mkdir()
        gt = json.loads((shared_data / 'coco/test_coco.json').read_text())
        for img in gt['images']:
            if img['id'] not in missing_ids:
                (img_dir / img['file_name']).symlink_to(shared_data / 'coco' / img['file_name'])
        return img_dir
    return link


def test_detection_path_checks_images_up_front(shared_data, coco_images_but):
    gt_file = shared_data / 'coco/test_coco.json'
    boxes = shared_data / 'coco/test_coco_det_AP_H_56.json'
    missing_id = json.loads(boxes.read_text())[0]['image_id']
    img_dir = coco_images_but(missing_id)
    file_name = next(img['file_name'] for img in json.loads(gt_file.read_text())['images']
                     if img['id'] == missing_id)
    with pytest.raises(InvalidInputError, match=re.escape(
            f'{gt_file}, image {missing_id}: image file {img_dir / file_name} not found')):
        _dataset(gt_file, img_dir, bbox_file=str(boxes), test_mode=True)


def test_detection_path_checks_the_ground_truth(shared_data, coco_images_but, tmp_path):
    data = json.loads((shared_data / 'coco/test_coco.json').read_text())
    ann = data['annotations'][3]
    ann['keypoints'] = ann['keypoints'][:-3]
    gt_file = tmp_path / 'gt.json'
    gt_file.write_text(json.dumps(data))
    with pytest.raises(InvalidInputError, match=re.escape(
            f'{gt_file}, annotation {ann["id"]} (image {ann["image_id"]}): keypoints must hold '
            '51 values')):
        _dataset(gt_file, coco_images_but(),
                 bbox_file=str(shared_data / 'coco/test_coco_det_AP_H_56.json'), test_mode=True)


def _drop_categories(data):
    del data['categories']


def _sixteen_keypoints(data):
    data['categories'][0]['keypoints'].pop()
    for ann in data['annotations']:
        del ann['keypoints'][-3:]


@pytest.mark.parametrize('edit, message', [
    (_drop_categories, ': no person category (id 1) with "keypoints" in "categories"'),
    (_sixteen_keypoints, ': the person category has 16 keypoints; COCO\'s keypoint evaluation '
     'scores its 17'),
    (lambda data: data['annotations'][5]['keypoints'].pop(),
     ', annotation {id} (image {image_id}): keypoints must hold 51 values'),
    (lambda data: data['annotations'][5].pop('bbox'),
     ', annotation {id} (image {image_id}): bbox must be [x, y, w, h], got None'),
    (lambda data: data['annotations'][5].pop('area'),
     ', annotation {id} (image {image_id}): area (the OKS scale) must be a finite number'),
])
def test_bad_ground_truth_fails_before_any_evaluation(shared_data, tmp_path, edit, message):
    data = json.loads((shared_data / 'coco/test_coco.json').read_text())
    ann = dict(data['annotations'][5])
    edit(data)
    gt_file = tmp_path / 'gt.json'
    gt_file.write_text(json.dumps(data))
    results = str(shared_data / 'results/example_coco_preds.json')
    expected = re.escape(f'{gt_file}{message.format(**ann)}')
    # the pipeline's up-front check, its scoring, and the deploy tools' reading of the people
    for use in (lambda: has_keypoint_annotations(str(gt_file)),
                lambda: coco_ap(str(gt_file), results),
                lambda: next(annotated_people(str(gt_file), str(shared_data / 'coco')))):
        with pytest.raises(InvalidInputError, match=expected):
            use()


def test_ground_truth_without_num_keypoints_is_evaluated(shared_data, tmp_path):
    gt_file = shared_data / 'coco/test_coco.json'
    data = json.loads(gt_file.read_text())
    for ann in data['annotations']:
        del ann['num_keypoints']  # optional for MMPose, which counts the labelled keypoints
    stripped = tmp_path / 'gt.json'
    stripped.write_text(json.dumps(data))
    results = str(shared_data / 'results/example_coco_preds.json')
    assert has_keypoint_annotations(str(stripped))
    assert coco_ap(str(stripped), results) == coco_ap(str(gt_file), results)
    people = [(image_id, boxes.tolist()) for image_id, _, boxes in
              annotated_people(str(stripped), str(shared_data / 'coco'))]
    assert people == [(image_id, boxes.tolist()) for image_id, _, boxes in
                      annotated_people(str(gt_file), str(shared_data / 'coco'))]
    assert sum(len(boxes) for _, boxes in people) == 12  # the 14 persons but 2 unlabelled


def test_corrupt_annotation_file_of_the_deploy_tools_is_named(tmp_path):
    corrupt = tmp_path / 'corrupt.json'
    corrupt.write_text('{"images": [')
    with pytest.raises(InvalidInputError, match=re.escape(f'{corrupt}: annotation file is not '
                                                          'valid JSON (line 1')):
        next(annotated_people(str(corrupt), str(tmp_path)))


@pytest.mark.parametrize('model, message', [
    ('missing.onnx', 'no such ONNX model file'),
    ('model_dir.onnx', 'is a directory, not an ONNX model file'),
    ('corrupt.onnx', 'not an ONNX model (the file does not parse)'),
])
@pytest.mark.parametrize('tool', ['onnx_infer.py', 'quantize_onnx.py', 'evaluate_onnx.py'])
def test_bad_onnx_model_file_is_named_by_the_deploy_tools(tmp_path, tool, model, message):
    (tmp_path / 'corrupt.onnx').write_bytes(b'not a protobuf')
    (tmp_path / 'model_dir.onnx').mkdir()
    image = tmp_path / 'person.jpg'
    cv2.imwrite(str(image), np.zeros((64, 48, 3), np.uint8))
    model_file = str(tmp_path / model)
    args = {'onnx_infer.py': [model_file, str(image)],
            'quantize_onnx.py': [model_file, str(tmp_path / 'int8.onnx'), '--ann', 'a.json',
                                 '--img-dir', str(tmp_path)],
            'evaluate_onnx.py': [model_file, '--ann', 'a.json', '--img-dir', str(tmp_path)]}[tool]
    result = subprocess.run([sys.executable, str(REPO / 'tools/deploy' / tool), *args],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 1
    assert result.stderr.strip() == f'{model_file}: {message}'
    assert not (tmp_path / 'int8.onnx').exists()


@pytest.mark.parametrize('content, message', [
    (None, ': AIC annotation file not found'),
    ('a directory', ': AIC annotation file is a directory, not a file'),
    (dict(images=[7], annotations=[]), ', image 0: needs id and file_name, got 7'),
    (dict(images=[dict(id=1, file_name='a.jpg')], annotations=[5]),
     ', annotation 0: needs id, image_id, got 5'),
    (dict(images=[dict(id=1, file_name='a.jpg')], annotations=None),
     ': "annotations" is not a list'),
    (dict(images=[dict(id=1, file_name='a.jpg')] * 2, annotations=[]),
     ', image 1: image id 1 is repeated'),
])
def test_bad_aic_annotation_file_names_the_file(tmp_path, content, message):
    ann_file = tmp_path / 'aic.json'
    if content == 'a directory':
        ann_file.mkdir()
    elif content is not None:
        ann_file.write_text(json.dumps(content))
    with pytest.raises(InvalidInputError, match=re.escape(f'{ann_file}{message}')):
        load_aic_as_coco(str(ann_file), str(tmp_path))


def test_annotation_list_instead_of_a_coco_file(coco_copy):
    ann_file, img_dir, data = coco_copy
    ann_file.write_text(json.dumps(data['annotations']))
    with pytest.raises(InvalidInputError, match='a COCO annotation file holds a JSON object with '
                       '"images" and "annotations", got a list'):
        _dataset(ann_file, img_dir)


def test_posefix_dataset_checks_its_annotations(coco_copy):
    def drop_a_value(data):
        data['annotations'][2]['keypoints'].pop()
        return data['annotations'][2]

    ann_file, img_dir, ann = _broken(coco_copy, drop_a_value)
    with pytest.raises(InvalidInputError, match='keypoints must hold 51 values .*got 50') as error:
        PoseFixCocoDataset(ann_file=str(ann_file), data_prefix=dict(img=str(img_dir) + '/'),
                           data_mode='topdown', pipeline=[])
    assert f'{ann_file}, annotation {ann["id"]}' in str(error.value)


def test_detection_without_category_names_the_detection(tiny_coco, tmp_path):
    image_id = json.loads(Path(tiny_coco['val_ann']).read_text())['images'][0]['id']
    boxes = tmp_path / 'boxes.json'
    boxes.write_text(json.dumps([dict(image_id=image_id, bbox=[1, 2, 30, 40], score=0.9)]))
    with pytest.raises(InvalidInputError, match=re.escape(
            f'{boxes}, detection 0: needs image_id, category_id, bbox, score')):
        _dataset(tiny_coco['val_ann'], tiny_coco['val_img'], bbox_file=str(boxes),
                 test_mode=True)
    with pytest.raises(InvalidInputError, match=re.escape(f'{boxes}, detection 0: needs')):
        coco_ap(tiny_coco['val_ann'], str(boxes), iou_type='bbox')


def test_evaluation_inputs_are_named(tiny_coco, tmp_path):
    corrupt = tmp_path / 'corrupt.json'
    corrupt.write_text('{"images": [')
    with pytest.raises(InvalidInputError, match=re.escape(f'{corrupt}: annotation file is not '
                                                          'valid JSON')):
        has_keypoint_annotations(str(corrupt))
    with pytest.raises(InvalidInputError, match=re.escape(f'{corrupt}: results file is not '
                                                          'valid JSON')):
        coco_ap(tiny_coco['val_ann'], str(corrupt))
    with pytest.raises(InvalidInputError, match=re.escape(f'{corrupt}: annotation file is not')):
        is_outdated(corrupt)


def _dataset_configs(cfg):
    """Every dataset dict of a config's dataloaders; a CombinedDataset's members for it."""
    stack = [cfg.get(f'{split}_dataloader', {}).get('dataset', {})
             for split in ('train', 'val', 'test')]
    while stack:
        dataset = stack.pop()
        if 'datasets' in dataset:
            stack.extend(dataset['datasets'])
        elif dataset:
            yield dataset


def test_shipped_configs_read_coco_through_the_checks():
    configs = sorted(REPO.glob('configs/*/*.py'))
    checked = set()
    for config in configs:
        for dataset in _dataset_configs(Config.fromfile(config)):
            assert dataset['type'] in ('CheckedCocoDataset', 'PoseFixCocoDataset',
                                       'AicCocoDataset'), (config, dataset['type'])
            checked.add(dataset['type'])
    assert checked == {'CheckedCocoDataset', 'PoseFixCocoDataset', 'AicCocoDataset'}

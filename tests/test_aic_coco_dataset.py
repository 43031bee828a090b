"""AicCocoDataset: the AIC -> COCO-17 mapping on the real samples, format equivalence, bad input,
and the COCO + AIC joint training config."""
import json
import logging
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.logging import MMLogger
from mmengine.runner import Runner
from mmpose.registry import DATASETS

import refine_plugin  # noqa: F401
from refine_plugin.datasets.aic_format import AIC_TO_COCO, load_aic_as_coco

COCO_NAMES = [
    'nose', 'left_eye', 'right_eye', 'left_ear', 'right_ear', 'left_shoulder', 'right_shoulder',
    'left_elbow', 'right_elbow', 'left_wrist', 'right_wrist', 'left_hip', 'right_hip',
    'left_knee', 'right_knee', 'left_ankle', 'right_ankle'
]
RAW_FILE = 'aic_raw_format_reconstructed.json'
JOINT_CONFIG = (Path(__file__).resolve().parents[1] / 'configs' / 'refine50' /
                'td-hm_4xrefine50_8xb32-210e_coco-aic-384x288.py')
COCO_STYLE_FILE = 'test_aic.json'


def build(ann_file, img_dir, **kwargs):
    return DATASETS.build(dict(type='AicCocoDataset', ann_file=str(ann_file),
                               data_prefix=dict(img=str(img_dir)), **kwargs))


def aic_to_coco_by_name(aic_names):
    """{AIC index: COCO index} from the joint names alone, independent of the plugin's table."""
    coco_index = {name: i for i, name in enumerate(COCO_NAMES)}
    return {i: coco_index[name.lower().replace(' ', '_')] for i, name in enumerate(aic_names)
            if name.lower().replace(' ', '_') in coco_index}


@pytest.fixture(scope='module')
def aic(shared_data):
    return shared_data / 'aic'


@pytest.fixture(scope='module')
def aic_names(aic):
    return json.loads((aic / COCO_STYLE_FILE).read_text())['categories'][0]['keypoints']


def test_name_mapping_is_the_issue_table(aic_names):
    mapping = aic_to_coco_by_name(aic_names)
    assert mapping == {0: 6, 1: 8, 2: 10, 3: 5, 4: 7, 5: 9, 6: 12, 7: 14, 8: 16, 9: 11,
                       10: 13, 11: 15}
    assert aic_names[12:] == ['Head top', 'Neck']
    # the plugin's table, which the converters and the dataset use, is that mapping
    assert len(AIC_TO_COCO) == len(mapping) and dict(AIC_TO_COCO) == mapping


def test_original_format_maps_every_joint(aic, aic_names):
    records = json.loads((aic / RAW_FILE).read_text())
    dataset = build(aic / RAW_FILE, aic)
    mapping = aic_to_coco_by_name(aic_names)
    sources = [(record, human) for record in records for human in record['keypoint_annotations']]
    assert len(dataset) == len(sources) == 9
    for index, (record, human) in enumerate(sources):
        sample = dataset.get_data_info(index)
        assert sample['img_path'] == str(aic / f'{record["image_id"]}.jpg')
        np.testing.assert_array_equal(sample['bbox'][0], record['human_annotations'][human])
        src = np.array(record['keypoint_annotations'][human]).reshape(14, 3)
        coco_v = np.array(sample['raw_ann_info']['keypoints']).reshape(17, 3)[:, 2]
        for aic_index, coco_index in mapping.items():
            x, y, v = src[aic_index]
            expected_v = {1: 2, 2: 1, 3: 0}[v]
            assert coco_v[coco_index] == expected_v
            assert sample['keypoints_visible'][0, coco_index] == min(1, expected_v)
            if v != 3:
                np.testing.assert_array_equal(sample['keypoints'][0, coco_index], [x, y])
        assert not sample['keypoints_visible'][0, :5].any() and not coco_v[:5].any()  # face
        assert sample['num_keypoints'] == np.count_nonzero(src[:12, 2] != 3)


def test_coco_style_format_maps_every_joint(aic, aic_names):
    content = json.loads((aic / COCO_STYLE_FILE).read_text())
    dataset = build(aic / COCO_STYLE_FILE, aic)
    mapping = aic_to_coco_by_name(aic_names)
    assert len(dataset) == len(content['annotations']) == 9
    for index, ann in enumerate(content['annotations']):
        sample = dataset.get_data_info(index)
        assert sample['id'] == ann['id'] and sample['img_id'] == ann['image_id']
        x, y, w, h = ann['bbox']
        np.testing.assert_array_equal(sample['bbox'][0], [x, y, x + w, y + h])
        src = np.array(ann['keypoints']).reshape(14, 3)
        coco = np.array(sample['raw_ann_info']['keypoints']).reshape(17, 3)
        for aic_index, coco_index in mapping.items():
            labelled = src[aic_index, 2] > 0
            np.testing.assert_array_equal(coco[coco_index], src[aic_index] * labelled)
            assert sample['keypoints_visible'][0, coco_index] == min(1, src[aic_index, 2])
        assert not coco[:5].any()


def test_both_formats_give_identical_samples(aic):
    original = build(aic / RAW_FILE, aic)
    coco_style = build(aic / COCO_STYLE_FILE, aic)
    assert len(original) == len(coco_style) == 9
    for index in range(9):
        a, b = original.get_data_info(index), coco_style.get_data_info(index)
        # the release has no annotation ids: the original format numbers persons from 1
        for sample in (a, b):
            sample.pop('id'), sample['raw_ann_info'].pop('id')
        assert a.keys() == b.keys()
        for key in a:
            if isinstance(a[key], np.ndarray):
                np.testing.assert_array_equal(a[key], b[key], err_msg=key)
            else:
                assert a[key] == b[key], key


def test_original_format_image_sizes_read_from_headers(aic):
    images = json.loads((aic / COCO_STYLE_FILE).read_text())['images']
    coco, _ = load_aic_as_coco(str(aic / RAW_FILE), str(aic))
    assert [(i['file_name'], i['width'], i['height']) for i in coco['images']] == \
        [(i['file_name'], i['width'], i['height']) for i in images]


def test_explicit_format_must_match_content(aic):
    assert len(build(aic / RAW_FILE, aic, ann_format='original')) == 9
    with pytest.raises(ValueError, match=f'{COCO_STYLE_FILE}.*not in the original AIC format'):
        build(aic / COCO_STYLE_FILE, aic, ann_format='original')
    with pytest.raises(ValueError, match=f'{RAW_FILE}.*not a COCO-style file'):
        build(aic / RAW_FILE, aic, ann_format='coco')


def small_joint_config(shared_data, work_dir):
    """The joint config on the real samples, with a narrow network and one iteration."""
    cfg = Config.fromfile(JOINT_CONFIG)
    coco_train, aic_train = cfg.train_dataloader.dataset.datasets
    assert coco_train.ann_file == 'annotations/person_keypoints_train2017.json'
    assert aic_train.type == 'AicCocoDataset'
    coco_train.update(data_root=str(shared_data / 'coco'), ann_file='test_coco.json',
                      data_prefix=dict(img=''))
    aic_train.update(data_root=str(shared_data / 'aic'), ann_file=RAW_FILE,
                     data_prefix=dict(img=''))
    cfg.train_dataloader.dataset.sample_ratio_factor = [1.0, 2.0]
    cfg.train_dataloader.update(batch_size=2, num_workers=0, persistent_workers=False)
    # COCO-only validation, not run here: one train iteration is the point
    assert cfg.val_dataloader.dataset.ann_file == 'annotations/person_keypoints_val2017.json'
    assert cfg.val_evaluator.type == 'CocoMetric'
    cfg.update(val_cfg=None, val_dataloader=None, val_evaluator=None)
    narrow = dict(num_stages=2, unit_channels=32)
    cfg.model.backbone.update(num_blocks=(1, 1, 1, 1), base_channels=16, base_width=8,
                              scales=2, **narrow)
    cfg.model.backbone.pop('init_cfg')  # no ImageNet weights offline: the network's own init
    cfg.model.head.update(narrow)
    cfg.train_cfg = dict(by_epoch=False, max_iters=1)
    cfg.update(work_dir=str(work_dir), log_level='WARNING', randomness=dict(seed=0))
    return cfg


def test_joint_config_trains_one_iteration(shared_data, tmp_path):
    runner = Runner.from_cfg(small_joint_config(shared_data, tmp_path))
    combined = runner.train_dataloader.dataset
    num_coco = 12  # persons with keypoints in test_coco.json
    assert combined.lens == [num_coco, 2 * 9]  # the sampling knob doubles the 9 AIC persons
    assert combined.metainfo['dataset_name'] == 'coco'

    aic_sample = combined[num_coco]  # a resampled AIC person, through the full train pipeline
    weights = aic_sample['data_samples'].gt_instance_labels.keypoint_weights
    assert weights.shape[-1] == 17 and weights[..., :5].sum() == 0 and weights.sum() > 0

    runner.model.init_weights()  # now, so that the snapshot is the weights the step starts from
    before = {k: v.detach().clone() for k, v in runner.model.named_parameters()}
    runner.train()
    assert runner.iter == 1
    assert np.isfinite(runner.message_hub.get_scalar('train/loss').current())
    assert any(not torch.equal(before[k], v) for k, v in runner.model.named_parameters())


# ---- bad input: small files built in tmp dirs, no shared data needed ----

def person(labelled=range(14), v=1):
    keypoints = []
    for i in range(14):
        keypoints += [10 + i, 20 + i, v] if i in labelled else [0, 0, 3]
    return keypoints


@pytest.fixture
def tiny_aic(tmp_path):
    """An image and a writer of original-format files naming it."""
    cv2.imwrite(str(tmp_path / 'abc123.jpg'), np.zeros((60, 40, 3), np.uint8))

    def write(humans, boxes=None, name='aic.json', records=None):
        boxes = boxes or {h: [1, 2, 30, 50] for h in humans}
        records = records or [dict(image_id='abc123', url='', keypoint_annotations=humans,
                                   human_annotations=boxes)]
        path = tmp_path / name
        path.write_text(json.dumps(records))
        return path

    return tmp_path, write


def test_persons_without_a_coco_joint_are_skipped_and_logged(tiny_aic):
    img_dir, write = tiny_aic
    unlabelled_with_coordinates = person()
    unlabelled_with_coordinates[3 * 11:3 * 12] = [7, 8, 3]  # l_ankle: COCO 15
    ann_file = write({'human1': unlabelled_with_coordinates, 'human2': person(labelled=(12, 13))})
    logger = MMLogger.get_instance('test_aic_skipped', log_level='INFO')
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    logger.addHandler(handler)
    try:
        dataset = build(ann_file, img_dir)
    finally:
        logger.removeHandler(handler)
    assert len(dataset) == 1
    sample = dataset.get_data_info(0)
    assert sample['raw_ann_info']['num_keypoints'] == 11
    assert sample['raw_ann_info']['keypoints'][3 * 15:3 * 16] == [0, 0, 0]
    assert any('skipped 1 of 2 persons' in r.getMessage() for r in records)
    # the image has the sizes of its header: boxes inside it are not clipped
    np.testing.assert_array_equal(sample['bbox'][0], [1, 2, 30, 50])


def test_wrong_keypoint_count(tiny_aic):
    img_dir, write = tiny_aic
    ann_file = write({'human1': person(), 'human7': person()[:39]})
    with pytest.raises(ValueError, match=r"aic\.json: record 0 \(image_id 'abc123'\), human7: "
                                         r'expected 42 keypoint values.*got 39'):
        build(ann_file, img_dir)


def test_wrong_keypoint_count_coco_style(tiny_aic, tmp_path):
    img_dir, _ = tiny_aic
    ann_file = tmp_path / 'coco17.json'
    ann_file.write_text(json.dumps(dict(
        images=[dict(id=5, file_name='abc123.jpg', width=40, height=60)],
        annotations=[dict(id=77, image_id=5, bbox=[1, 2, 3, 4], keypoints=[1, 1, 2] * 17)])))
    with pytest.raises(ValueError, match=r'coco17\.json: annotation id 77 \(image_id 5\): '
                                         r'expected 42 keypoint values.*got 51'):
        build(ann_file, img_dir)


def test_unknown_format(tiny_aic, tmp_path):
    img_dir, _ = tiny_aic
    ann_file = tmp_path / 'other.json'
    ann_file.write_text(json.dumps({'people': []}))
    with pytest.raises(ValueError, match=r'other\.json: unknown annotation format'):
        build(ann_file, img_dir)
    with pytest.raises(ValueError, match=r"other\.json: unknown AIC annotation format 'xml'"):
        build(ann_file, img_dir, ann_format='xml')
    ann_file.write_text('[{"image_id": "abc123", ')
    with pytest.raises(ValueError, match=r'other\.json: AIC annotation file is not valid JSON'):
        build(ann_file, img_dir)


def test_missing_image(tiny_aic):
    img_dir, write = tiny_aic
    records = [dict(image_id=image_id, keypoint_annotations={'human1': person()},
                    human_annotations={'human1': [1, 2, 30, 50]})
               for image_id in ('abc123', 'missing9')]
    ann_file = write({}, records=records)
    with pytest.raises(FileNotFoundError,
                       match=r"aic\.json: image 'missing9\.jpg' \(id 2\): image file .* not found"):
        build(ann_file, img_dir)


def test_box_with_x2_before_x1(tiny_aic):
    img_dir, write = tiny_aic
    ann_file = write({'human1': person(), 'human2': person()},
                     boxes={'human1': [1, 2, 30, 50], 'human2': [30, 2, 1, 50]})
    with pytest.raises(ValueError, match=r"aic\.json: record 0 \(image_id 'abc123'\), human2: "
                                         r'box .* has x2 < x1'):
        build(ann_file, img_dir)


def test_nan_coordinates(tiny_aic):
    img_dir, write = tiny_aic
    keypoints = person()
    keypoints[3] = float('nan')
    ann_file = write({'human3': keypoints})
    assert 'NaN' in ann_file.read_text()
    with pytest.raises(ValueError, match=r"aic\.json: record 0 \(image_id 'abc123'\), human3: "
                                         r'keypoint values.*must be finite numbers, got nan'):
        build(ann_file, img_dir)


def test_bad_visibility_and_missing_box(tiny_aic):
    img_dir, write = tiny_aic
    with pytest.raises(ValueError, match=r'human1: visibility 0 is not 1, 2 or 3'):
        build(write({'human1': person(v=0)}), img_dir)
    with pytest.raises(ValueError, match=r'human2: no box in "human_annotations"'):
        build(write({'human2': person()}, boxes={'human1': [1, 2, 30, 50]}), img_dir)

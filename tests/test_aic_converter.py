"""tools/dataset_converters/aic_to_coco.py: its output loads and evaluates in pycocotools."""
import contextlib
import io
import json
import runpy
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import pycocotools_stats
from mmpose.registry import DATASETS
from pycocotools.coco import COCO

import refine_plugin  # noqa: F401

CONVERTER = Path(__file__).resolve().parents[1] / 'tools' / 'dataset_converters' / 'aic_to_coco.py'
COCO_NAMES = [
    'nose', 'left_eye', 'right_eye', 'left_ear', 'right_ear', 'left_shoulder', 'right_shoulder',
    'left_elbow', 'right_elbow', 'left_wrist', 'right_wrist', 'left_hip', 'right_hip',
    'left_knee', 'right_knee', 'left_ankle', 'right_ankle'
]


@pytest.fixture(scope='module')
def converted(shared_data, tmp_path_factory):
    """The real AIC samples in the original release format, converted by the tool."""
    out_file = tmp_path_factory.mktemp('aic_to_coco') / 'aic_coco17.json'
    argv = [str(CONVERTER), str(shared_data / 'aic' / 'aic_raw_format_reconstructed.json'),
            str(shared_data / 'aic'), str(out_file)]
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout), pytest.MonkeyPatch.context() as patch:
        patch.setattr(sys, 'argv', argv)
        runpy.run_path(str(CONVERTER), run_name='__main__')
    assert '3 images, 9 persons (0 without a labelled COCO joint skipped)' in stdout.getvalue()
    return out_file


def predictions_from_mmpose_conversion(aic_dir, gt, swap_left_right=False):
    """COCO-17 results made from MMPose's 14-keypoint ``test_aic.json`` by joint name."""
    aic = json.loads((aic_dir / 'test_aic.json').read_text())
    names = [n.lower().replace(' ', '_') for n in aic['categories'][0]['keypoints']]
    file_names = {img['id']: img['file_name'] for img in aic['images']}
    gt_ids = {img['file_name']: img['id'] for img in gt.dataset['images']}
    results = []
    for ann in aic['annotations']:
        keypoints = np.zeros((17, 3))
        for (x, y, _), name in zip(np.reshape(ann['keypoints'], (14, 3)), names):
            if name in COCO_NAMES:
                if swap_left_right:
                    name = name.replace('left', 'tmp').replace('right', 'left').replace(
                        'tmp', 'right')
                keypoints[COCO_NAMES.index(name)] = x, y, 1
        results.append(dict(image_id=gt_ids[file_names[ann['image_id']]], category_id=1,
                            keypoints=keypoints.ravel().tolist(), score=1.0))
    return results


def test_output_is_coco_person_keypoints(converted):
    gt = COCO(str(converted))
    category = gt.loadCats(1)[0]
    assert category['name'] == 'person' and category['keypoints'] == COCO_NAMES
    assert len(category['skeleton']) == 19 and [16, 14] in category['skeleton']
    assert len(gt.getImgIds()) == 3 and len(gt.getAnnIds()) == 9
    for ann in gt.loadAnns(gt.getAnnIds()):
        keypoints = np.reshape(ann['keypoints'], (17, 3))
        assert set(keypoints[:, 2]) <= {0, 1, 2} and not keypoints[:5].any()
        assert ann['num_keypoints'] == np.count_nonzero(keypoints[:, 2])
        assert ann['iscrowd'] == 0 and ann['area'] > 0


def test_output_evaluates_in_pycocotools(converted, shared_data):
    gt = COCO(str(converted))
    aic_dir = shared_data / 'aic'
    # the same persons, mapped independently by joint name, match the converted ground truth
    same = pycocotools_stats(converted, predictions_from_mmpose_conversion(aic_dir, gt))
    assert same[0] == pytest.approx(1.0)
    swapped = pycocotools_stats(converted, predictions_from_mmpose_conversion(aic_dir, gt, True))
    assert swapped[0] < 0.5


def test_output_loads_as_mmpose_coco_dataset(converted, shared_data):
    """MMPose's own CocoDataset reads the converted file as AicCocoDataset reads the original."""
    aic_dir = shared_data / 'aic'
    common = dict(data_root=str(aic_dir), data_prefix=dict(img=''))
    coco = DATASETS.build(dict(type='CocoDataset', ann_file=str(converted), **common))
    aic = DATASETS.build(dict(type='AicCocoDataset',
                              ann_file='aic_raw_format_reconstructed.json', **common))
    assert len(coco) == len(aic) == 9
    for index in range(9):
        a, b = coco.get_data_info(index), aic.get_data_info(index)
        for key in ('img_path', 'img_id', 'id', 'bbox', 'keypoints', 'keypoints_visible', 'area',
                    'num_keypoints', 'flip_indices'):
            np.testing.assert_array_equal(a[key], b[key], err_msg=key)

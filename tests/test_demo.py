"""tools/demo.py on the real samples: a video through a detector, a folder through a boxes file."""
import json
import os.path as osp
import re
import subprocess
import sys
from pathlib import Path

import cv2
import mmpose
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

import refine_plugin  # noqa: F401
from refine_plugin.apis import init_refiner, load_person_boxes
from refine_plugin.datasets.input_checks import InvalidInputError
from test_ensemble import ensemble_config, save_random_member, tiny_topdown_config

REPO_ROOT = Path(__file__).resolve().parents[1]
POSEFIX_CONFIG = str(REPO_ROOT / 'configs/posefix/posefix_res18-c32_1xb32-30e_synthetic-128x96.py')
RTMDET_NANO_PERSON = osp.join(osp.dirname(mmpose.__file__), '.mim', 'demo', 'mmdetection_cfg',
                              'rtmdet_nano_320-8xb32_coco-person.py')


def frame_count(video):
    capture = cv2.VideoCapture(str(video))
    count = 0
    while capture.read()[0]:
        count += 1
    capture.release()
    return count


@pytest.fixture(scope='module')
def models(shared_data, tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp('demo_models')
    coco = shared_data / 'coco'
    pose = save_random_member(
        tmp_path, 'pose', tiny_topdown_config(coco, coco / 'test_coco.json'), seed=4)
    # a small RTMDet person detector from its config, random weights (no download offline):
    # PyTorch's default init, not RTMDet's low-prior one, so that it outputs boxes (scores ~0.5),
    # at most 3 per frame to keep the test fast
    from mmdet.registry import MODELS as DET_MODELS
    det_config = tmp_path / 'detector.py'
    det_config.write_text(f'_base_ = {RTMDET_NANO_PERSON!r}\n'
                          'model = dict(test_cfg=dict(max_per_img=3))\n')
    init_default_scope('mmdet')
    torch.manual_seed(0)
    detector = DET_MODELS.build(Config.fromfile(det_config).model)
    det_checkpoint = tmp_path / 'detector.pth'
    torch.save({'state_dict': detector.state_dict(),
                'meta': {'dataset_meta': {'classes': ('person', )}}}, det_checkpoint)
    refiner_checkpoint = tmp_path / 'refiner.pth'
    torch.save({'state_dict': init_refiner(POSEFIX_CONFIG).state_dict(), 'meta': {}},
               refiner_checkpoint)
    return dict(pose=pose, detector=(str(det_config), str(det_checkpoint)),
                refiner=(POSEFIX_CONFIG, str(refiner_checkpoint)), tmp_path=tmp_path)


def run_demo(*args, succeeds=True):
    """Run ``tools/demo.py``; it must exit 0, or with ``succeeds=False`` with an error."""
    run = subprocess.run([sys.executable, 'tools/demo.py', *map(str, args)], cwd=REPO_ROOT,
                         capture_output=True, text=True)
    assert (run.returncode == 0) == succeeds, run.stderr[-3000:]
    return run


def test_video_through_a_detector_and_posefix_keeps_every_frame(shared_data, models, tmp_path):
    video = shared_data / 'video/demo.mp4'
    run_demo(video, models['pose'][0], '--pose-checkpoint', models['pose'][1],
             '--det-config', models['detector'][0], '--det-checkpoint', models['detector'][1],
             '--bbox-thr', '0.4', '--refiner-config', models['refiner'][0],
             '--refiner-checkpoint', models['refiner'][1], '--out-dir', tmp_path)
    assert frame_count(tmp_path / 'demo.mp4') == frame_count(video) == 5
    # written under a temporary name and renamed when complete
    assert sorted(p.name for p in tmp_path.iterdir()) == ['demo.mp4', 'predictions.json']
    output = cv2.VideoCapture(str(tmp_path / 'demo.mp4'))
    assert (output.get(cv2.CAP_PROP_FRAME_WIDTH), output.get(cv2.CAP_PROP_FRAME_HEIGHT)) == \
        (960, 540)
    predictions = json.loads((tmp_path / 'predictions.json').read_text())['predictions']
    assert [p['image_id'] for p in predictions] == [0, 1, 2, 3, 4]
    instances = [i for p in predictions for i in p['instances']]
    assert instances, 'the detector found no person box in any frame'
    assert all(np.array(i['keypoints']).shape == (17, 2) for i in instances)
    assert all(0.4 < i['bbox_score'] for i in instances)
    assert all(len(p['instances']) <= 3 for p in predictions)


def test_folder_through_a_boxes_file_with_an_ensemble(shared_data, models, tmp_path):
    coco = shared_data / 'coco'
    boxes_file = coco / 'test_coco_det_AP_H_56.json'
    member_config = Config.fromfile(models['pose'][0]).to_dict()
    ensemble_file = models['tmp_path'] / 'ensemble.py'
    Config(ensemble_config([models['pose'], models['pose']], (96, 128), member_config)).dump(
        ensemble_file)
    run_demo(coco, ensemble_file, '--boxes-file', boxes_file, '--bbox-thr', '0.3',
             '--out-dir', tmp_path)

    predictions = json.loads((tmp_path / 'predictions.json').read_text())['predictions']
    boxes = load_person_boxes(str(boxes_file), bbox_thr=0.3)
    names = sorted(p.name for p in coco.glob('*.jpg'))
    assert [p['name'] for p in predictions] == names
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(names + ['predictions.json'])
    for prediction in predictions:
        expected = boxes.get(prediction['image_id'], np.zeros((0, 5)))
        assert len(prediction['instances']) == len(expected)
        if len(expected):
            np.testing.assert_allclose([i['bbox'][0] for i in prediction['instances']],
                                       expected[:, :4], atol=1e-3)
        drawn = cv2.imread(str(tmp_path / prediction['name']))
        original = cv2.imread(str(coco / prediction['name']))
        assert drawn.shape == original.shape
        assert (np.abs(drawn.astype(int) - original).max() > 100) == bool(len(expected))


def run_demo_expecting_failure(models, tmp_path, *args):
    """stderr of the demo with the pose model of ``models``, which must fail on ``args``."""
    return run_demo(*args, models['pose'][0], '--pose-checkpoint', models['pose'][1],
                    '--out-dir', tmp_path / 'out', succeeds=False).stderr


def test_a_bad_boxes_file_is_named_in_the_error(shared_data, models, tmp_path):
    bad = tmp_path / 'boxes.json'
    bad.write_text(json.dumps([dict(image_id=785, bbox=[1, 2, 3, 4], score=0.9),
                               dict(image_id=785, bbox=[1, 2, 3], score=0.9)]))
    stderr = run_demo_expecting_failure(models, tmp_path, shared_data / 'coco/000000000785.jpg',
                                        '--boxes-file', bad)
    assert f'{bad}, detection 1: bbox must be [x, y, w, h], got [1, 2, 3]' in stderr
    assert not (tmp_path / 'out' / 'predictions.json').exists()


@pytest.mark.parametrize('detection, problem', [
    (dict(image_id=785, bbox=[1, 2, 3, float('nan')], score=0.9), 'bbox [1, 2, 3, nan] holds a NaN'),
    (dict(image_id=785, bbox=[1, 2, 3, 4], score=None), 'score must be a finite number, got None'),
    (dict(image_id='785', bbox=[1, 2, 3, 4], score=0.9), "image_id must be an integer, got '785'"),
    (dict(image_id=785, bbox=[1, 2, 3, 4]), 'needs image_id, bbox, score'),
])
def test_bad_person_boxes_name_the_file_and_detection(tmp_path, detection, problem):
    bad = tmp_path / 'boxes.json'
    bad.write_text(json.dumps([dict(image_id=785, bbox=[1, 2, 3, 4], score=0.9), detection]))
    with pytest.raises(InvalidInputError, match=re.escape(f'{bad}, detection 1: {problem}')):
        load_person_boxes(str(bad))


def test_a_corrupt_video_is_an_error_not_zero_frames(shared_data, models, tmp_path):
    video = tmp_path / 'broken.mp4'
    video.write_bytes((shared_data / 'video/demo.mp4').read_bytes()[-4096:])  # the header lost
    boxes = tmp_path / 'boxes.json'
    boxes.write_text('[]')
    stderr = run_demo_expecting_failure(models, tmp_path, video, '--boxes-file', boxes)
    assert f'{video}: no frame could be decoded (a corrupt or unsupported video)' in stderr


def test_boxes_of_other_images_are_reported(shared_data, models, tmp_path):
    boxes = tmp_path / 'boxes.json'
    boxes.write_text(json.dumps([dict(image_id=785, bbox=[10, 20, 100, 200], score=0.9)]))
    run = run_demo(shared_data / 'coco', models['pose'][0], '--pose-checkpoint', models['pose'][1],
                   '--boxes-file', boxes, '--out-dir', tmp_path / 'out')
    assert (f'warning: {boxes} has no box above --bbox-thr for 3 of 4 images (image ids 40083, '
            '196141, 197388)') in run.stdout


def test_a_model_without_its_checkpoint_is_an_error(shared_data, models, tmp_path):
    image = shared_data / 'coco/000000000785.jpg'
    stderr = run_demo(image, models['pose'][0], '--out-dir', tmp_path / 'out',
                      succeeds=False).stderr
    assert (f'--pose-checkpoint is required: {models["pose"][0]} builds a TopdownPoseEstimator, '
            'whose weights would otherwise be random') in stderr
    stderr = run_demo_expecting_failure(models, tmp_path, image,
                                        '--refiner-config', models['refiner'][0])
    assert '--refiner-checkpoint is required with --refiner-config' in stderr
    assert not (tmp_path / 'out').exists()


def test_drawing_over_the_input_images_is_refused(shared_data, models, tmp_path):
    folder = tmp_path / 'images'
    folder.mkdir()
    image = folder / '000000000785.jpg'
    image.write_bytes((shared_data / 'coco/000000000785.jpg').read_bytes())
    for source in (folder, image):
        stderr = run_demo(source, models['pose'][0], '--pose-checkpoint', models['pose'][1],
                          '--out-dir', folder, succeeds=False).stderr
        assert f'--out-dir {folder} is the folder of the input' in stderr
    assert image.read_bytes() == (shared_data / 'coco/000000000785.jpg').read_bytes()
    assert sorted(folder.iterdir()) == [image]

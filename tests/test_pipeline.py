"""Test-time pipeline: COCO AP helper, evaluation modes, submission files, tools/pipeline.py."""
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import assert_same_keypoint_results, pycocotools_stats
from mmengine.config import Config
from mmengine.runner import Runner
from pycocotools.coco import COCO

import refine_plugin  # noqa: F401
from refine_plugin.apis import coco_ap, estimate_poses, run_pipeline
from refine_plugin.evaluation import check_keypoint_results
from test_ensemble import ensemble_config, save_random_member, tiny_topdown_config
from test_posefix_apis import check_refined_joints_inside_their_crops

REPO_ROOT = Path(__file__).resolve().parents[1]
POSEFIX_CONFIG = str(REPO_ROOT / 'configs/posefix/posefix_res18-c32_1xb32-30e_synthetic-128x96.py')


def test_coco_ap_reproduces_the_known_values(shared_data):
    gt = str(shared_data / 'coco/test_coco.json')
    keypoints = coco_ap(gt, str(shared_data / 'results/example_coco_preds.json'))
    assert keypoints['AP'] == pytest.approx(0.8609, abs=5e-5)
    assert keypoints['AP50'] == pytest.approx(0.9931, abs=5e-5)
    assert keypoints['AR'] == pytest.approx(0.8750, abs=5e-5)
    boxes = coco_ap(gt, str(shared_data / 'results/mmpose_coco4_yolo11n-pose_person_bbox.json'),
                    iou_type='bbox')
    assert boxes['AP'] == pytest.approx(0.7877, abs=5e-5)


def test_coco_ap_names_the_file_and_result_of_a_foreign_image_id(shared_data, tmp_path):
    results = json.loads((shared_data / 'results/example_coco_preds.json').read_text())
    results[5]['image_id'] = 999999
    results_file = tmp_path / 'foreign.json'
    results_file.write_text(json.dumps(results))
    with pytest.raises(ValueError, match=r'foreign\.json, result 5: image_id 999999'):
        coco_ap(str(shared_data / 'coco/test_coco.json'), str(results_file))


@pytest.fixture(scope='module')
def pose_model(shared_data, tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp('pipeline_model')
    coco = shared_data / 'coco'
    config = tiny_topdown_config(coco, coco / 'test_coco.json', input_size=(96, 128))
    return save_random_member(tmp_path, 'member', config, seed=3)


def test_detections_ensemble_posefix_with_an_ap_table(shared_data, pose_model, tmp_path):
    coco = shared_data / 'coco'
    ann_file, bbox_file = str(coco / 'test_coco.json'), str(coco / 'test_coco_det_AP_H_56.json')
    member_config = Config.fromfile(pose_model[0]).to_dict()
    ensemble_file = tmp_path / 'ensemble.py'
    Config(ensemble_config([pose_model, pose_model], (96, 128), member_config)).dump(ensemble_file)

    output = run_pipeline(str(ensemble_file), None, ann_file, str(coco), str(tmp_path / 'run'),
                          bbox_file=bbox_file, bbox_score_thr=0.3,
                          refiner_config=POSEFIX_CONFIG, device='cpu')

    steps = {row['step']: row for row in output['steps']}
    assert list(steps) == ['person boxes (bbox AP)', 'pose model', '+ PoseFix']
    # the boxes row scores the detections file as the COCO API does
    assert steps['person boxes (bbox AP)']['AP'] == pytest.approx(
        pycocotools_stats(ann_file, bbox_file, 'bbox')[0])
    assert output['results_file'] == steps['+ PoseFix']['results_file']
    assert Path(output['results_file']).name == 'person_keypoints_val2017_refineplugin_results.json'

    # the pose step's poses and AP are MMPose's CocoMetric's, of the same model on the same boxes
    cfg = Config.fromfile(pose_model[0])
    cfg.test_dataloader.dataset.update(bbox_file=bbox_file,
                                       filter_cfg=dict(bbox_score_thr=0.3))
    cfg.test_evaluator.outfile_prefix = str(tmp_path / 'cocometric')
    cfg.update(work_dir=str(tmp_path / 'cocometric'), load_from=pose_model[1])
    metrics = Runner.from_cfg(cfg).test()
    pose = json.loads(Path(steps['pose model']['results_file']).read_text())
    # an untrained model's AP may be 0 both ways: the poses themselves must be CocoMetric's
    assert_same_keypoint_results(
        pose, json.loads((tmp_path / 'cocometric.keypoints.json').read_text()))
    assert steps['pose model']['AP'] == pytest.approx(metrics['coco/AP'], abs=1e-6)
    assert steps['pose model']['AR'] == pytest.approx(metrics['coco/AR'], abs=1e-6)

    # PoseFix moves the joints of every pose, inside the crop it saw, and keeps the rest
    refined = json.loads(Path(output['results_file']).read_text())
    assert len(refined) == len(pose) > 0
    assert [r['image_id'] for r in refined] == [p['image_id'] for p in pose]
    assert [r['score'] for r in refined] == [p['score'] for p in pose]
    assert refined[0]['keypoints'][:2] != pose[0]['keypoints'][:2]
    check_refined_joints_inside_their_crops(refined, pose)
    # the PoseFix row scores the final file as the COCO API does
    assert steps['+ PoseFix']['AP'] == pytest.approx(
        pycocotools_stats(ann_file, output['results_file'])[0], abs=1e-9)


def test_gt_boxes_give_one_pose_per_annotated_person(shared_data, pose_model, tmp_path):
    coco = shared_data / 'coco'
    output = run_pipeline(pose_model[0], pose_model[1], str(coco / 'test_coco.json'), str(coco),
                          str(tmp_path))
    assert [row['step'] for row in output['steps']] == ['pose model']
    results = json.loads(Path(output['results_file']).read_text())
    assert len(results) == 12  # the persons with keypoints of test_coco.json


def test_two_runs_of_one_config_in_one_second_log_into_their_own_dirs(
        shared_data, pose_model, tmp_path, monkeypatch):
    """MMEngine names a Runner's logger by config and second; each run must still log its own."""
    coco = shared_data / 'coco'
    monkeypatch.setattr(time, 'strftime', lambda *args: '20261205_000000')
    for name in ('first', 'second'):
        estimate_poses(pose_model[0], pose_model[1], str(coco / 'test_coco.json'), str(coco),
                       str(tmp_path / name))
    for name in ('first', 'second'):
        log = (tmp_path / name / '20261205_000000' / '20261205_000000.log').read_text()
        assert str(tmp_path / name) in log  # the config the Runner logs names its work_dir


def test_gt_box_results_follow_the_configs_nms(shared_data, pose_model, tmp_path):
    """Two people with one box get one pose each under nms_mode='none', as tools/test.py scores."""
    coco = shared_data / 'coco'
    gt = json.loads((coco / 'test_coco.json').read_text())
    person = next(ann for ann in gt['annotations'] if ann['num_keypoints'] > 0)
    gt['annotations'].append(dict(person, id=max(ann['id'] for ann in gt['annotations']) + 1))
    ann_file = tmp_path / 'doubled_person.json'
    ann_file.write_text(json.dumps(gt))
    no_nms_config = tmp_path / 'no_nms.py'
    cfg = Config.fromfile(pose_model[0])
    cfg.test_evaluator.nms_mode = 'none'
    cfg.dump(no_nms_config)

    counts = {}
    for name, config in (('oks_nms', pose_model[0]), ('none', str(no_nms_config))):
        output = run_pipeline(config, pose_model[1], str(ann_file), str(coco), str(tmp_path / name))
        counts[name] = len(json.loads(Path(output['results_file']).read_text()))
    assert counts == {'oks_nms': 12, 'none': 13}


def test_test_dev_run_writes_a_submission_that_loads_with_pycocotools(shared_data, pose_model,
                                                                     tmp_path):
    """No ground truth: tools/pipeline.py writes the server's file, with no AP."""
    coco = shared_data / 'coco'
    gt = json.loads((coco / 'test_coco.json').read_text())
    image_list = tmp_path / 'image_info_test.json'
    image_list.write_text(json.dumps(dict(images=gt['images'], categories=gt['categories'])))
    out_dir = tmp_path / 'test_dev'
    run = subprocess.run(
        [sys.executable, 'tools/pipeline.py', pose_model[0], '--checkpoint', pose_model[1],
         '--ann-file', str(image_list), '--img-dir', str(coco),
         '--bbox-file', str(coco / 'test_coco_det_AP_H_56.json'), '--bbox-score-thr', '0.5',
         '--split', 'test-dev2017', '--name', 'tiny', '--out-dir', str(out_dir)],
        cwd=REPO_ROOT, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-3000:]
    results_file = out_dir / 'pose/person_keypoints_test-dev2017_tiny_results.json'
    assert f'final results: {results_file}' in run.stdout
    assert '| pose model | - | - |' in run.stdout
    loaded = COCO(str(image_list)).loadRes(str(results_file))
    detections = json.loads((coco / 'test_coco_det_AP_H_56.json').read_text())
    kept = [d for d in detections if d['score'] >= 0.5]
    assert 0 < len(loaded.anns) <= len(kept)
    assert {ann['image_id'] for ann in loaded.anns.values()} <= {img['id'] for img in gt['images']}


def test_pipeline_without_boxes_or_ground_truth_is_refused(shared_data, pose_model, tmp_path):
    image_list = tmp_path / 'images.json'
    image_list.write_text(json.dumps(dict(images=[], categories=[])))
    with pytest.raises(ValueError, match='give a bbox_file'):
        run_pipeline(pose_model[0], pose_model[1], str(image_list), str(shared_data / 'coco'),
                     str(tmp_path))


@pytest.mark.parametrize('change, message', [
    (dict(image_id=5), 'image_id 5 is not in the image list'),
    (dict(category_id=2), 'category_id must be 1'),
    (dict(keypoints=[0.0] * 50), 'keypoints must be a flat list of 51'),
    (dict(keypoints=[float('nan')] + [0.0] * 50), 'keypoints hold a non-finite'),
    (dict(score='high'), 'score must be a finite number'),
])
def test_malformed_results_are_rejected_naming_file_and_entry(change, message):
    good = dict(image_id=785, category_id=1, keypoints=[1.0] * 51, score=0.9)
    check_keypoint_results([good], [785], 17, source='out.json')
    with pytest.raises(ValueError, match=f'out.json, result 1: {message}'):
        check_keypoint_results([good, dict(good, **change)], [785], 17, source='out.json')


@pytest.mark.parametrize('tool, args, message', [
    ('pipeline.py', [], '--checkpoint is required: {config} builds a TopdownPoseEstimator, '
     'whose weights would otherwise be random'),
    ('pipeline.py', ['--checkpoint', '{checkpoint}', '--refiner-config', POSEFIX_CONFIG],
     '--refiner-checkpoint is required with --refiner-config'),
    ('pipeline.py', ['--checkpoint', '{checkpoint}', '--bbox-score-thr', '0.5'],
     '--bbox-score-thr applies to --bbox-file detections'),
    ('test.py', [], 'the checkpoint argument is required: {config} builds a '
     'TopdownPoseEstimator'),
])
def test_tools_refuse_a_model_without_weights(shared_data, pose_model, tmp_path, tool, args,
                                              message):
    """MMPose's init_model and a Runner without load_from would run random weights silently."""
    config, checkpoint = pose_model
    coco = shared_data / 'coco'
    common = (['--ann-file', str(coco / 'test_coco.json'), '--img-dir', str(coco), '--out-dir',
               str(tmp_path / 'out')] if tool == 'pipeline.py' else ['--work-dir', str(tmp_path)])
    args = [arg.format(checkpoint=checkpoint) for arg in args]
    run = subprocess.run([sys.executable, f'tools/{tool}', config, *args, *common],
                         cwd=REPO_ROOT, capture_output=True, text=True)
    assert run.returncode != 0 and message.format(config=config) in run.stderr, run.stderr[-2000:]
    assert not (tmp_path / 'out').exists()

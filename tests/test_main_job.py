"""The main job end to end on tiny generated data (a few iterations): every phase runs, prints its
progress and leaves outputs that parse."""
import argparse
import json
import subprocess
import sys
from pathlib import Path

import cv2
import pytest
from mmengine.config import Config
from conftest import pycocotools_stats
from pycocotools.coco import COCO

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT / 'tools'))
import main_job  # noqa: E402

sys.path.pop(0)
PHASES = ('data', 'train', 'evaluate', 'posefix', 'visualise')


@pytest.fixture(scope='module')
def job(tmp_path_factory):
    work_dir = tmp_path_factory.mktemp('main_job')
    data_root = work_dir / 'data'
    proc = subprocess.run(
        [sys.executable, str(REPO_ROOT / 'tools/main_job.py'), '--work-dir', str(work_dir),
         '--data-root', str(data_root), '--num-train', '6', '--num-val', '3', '--epochs', '1',
         '--posefix-epochs', '1', '--workers', '0', '--num-vis', '2',
         '--cfg-options', 'default_hooks.logger.interval=1'],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return work_dir, data_root, proc.stdout


def test_every_phase_reports_progress(job):
    _, _, stdout = job
    for phase in PHASES:
        assert f'[main_job:{phase}] start' in stdout
        assert f'[main_job:{phase}] done in' in stdout


def test_summary_json_and_markdown(job):
    work_dir, data_root, _ = job
    summary = json.loads((work_dir / 'summary.json').read_text())
    assert set(summary['phase_seconds']) == set(PHASES)
    assert summary['total_seconds'] == pytest.approx(sum(summary['phase_seconds'].values()),
                                                     abs=0.2)
    models = [row['model'] for row in summary['results']]
    assert models[0] == ('td-hm_2xrefine-tiny_1xb16-18e_synthetic-96x72 '
                         'default_hooks.logger.interval=1')
    assert summary['cfg_options'] == {'default_hooks.logger.interval': 1}
    assert len(models) == 3 and models[-1].endswith('+ PoseFix')
    # CocoMetric and pycocotools score the same predictions file identically
    for metric in main_job.METRIC_NAMES:
        assert summary['results'][1][metric] == pytest.approx(summary['results'][0][metric],
                                                              abs=1e-4)
    # every row is what the COCO API scores on its results file
    for row, name in zip(summary['results'][1:], ('predictions', 'predictions_posefix')):
        stats = pycocotools_stats(data_root / 'annotations/person_keypoints_val.json',
                                  str(work_dir / f'{name}.keypoints.json'))
        assert [row[metric] for metric in main_job.METRIC_NAMES] == pytest.approx(
            [stats[i] for i in (0, 1, 2, 5)])
    markdown = (work_dir / 'summary.md').read_text()
    assert '| model | AP | AP50 | AP75 | AR |' in markdown
    assert markdown.count('\n| ') >= len(models) + len(PHASES) + 2


def test_predictions_cover_every_ground_truth_person(job):
    work_dir, data_root, _ = job
    gt = COCO(str(data_root / 'annotations/person_keypoints_val.json'))
    for name in ('predictions.keypoints.json', 'predictions_posefix.keypoints.json'):
        results = gt.loadRes(str(work_dir / name))
        assert len(results.getAnnIds()) == len(gt.getAnnIds())


def test_visualisations_show_gt_beside_prediction(job):
    work_dir, data_root, _ = job
    summary = json.loads((work_dir / 'summary.json').read_text())
    assert len(summary['visualisations']) == 2
    val = json.loads((data_root / 'annotations/person_keypoints_val.json').read_text())
    width, height = val['images'][0]['width'], val['images'][0]['height']
    img = cv2.imread(summary['visualisations'][0])
    assert img.shape == (2 * height, 2 * 2 * width, 3)  # upscaled 2x, two panels


def test_training_curves_png(job):
    work_dir, _, _ = job
    img = cv2.imread(str(work_dir / 'curves.png'))
    assert img is not None and img.shape[0] > 200 and img.shape[1] > 500


def test_training_curves_read_only_this_run(job):
    """PoseFix trains in the same process: its scalars must not leak into the pose run's."""
    work_dir, _, _ = job
    scalars = main_job.read_scalars(work_dir / 'pose_model')
    assert len([s for s in scalars if 'coco/AP' in s]) == 1


def test_cfg_options_change_the_pose_config_but_not_the_jobs_own_settings(tmp_path):
    options = {'model.backbone.spatial_attention': False, 'work_dir': 'elsewhere',
               'train_dataloader.dataset.data_root': 'elsewhere/'}
    cfg = main_job.load_config(main_job.POSE_CONFIG, tmp_path / 'data', tmp_path / 'work', None,
                               None, 0, options)
    assert cfg.model.backbone.spatial_attention is False
    assert cfg.model.backbone.block == 'RefineBottleneck'
    assert cfg.work_dir == str(tmp_path / 'work')
    assert cfg.train_dataloader.dataset.data_root == str(tmp_path / 'data')


def test_set_epochs_scales_the_schedule():
    cfg = Config(dict(train_cfg=dict(max_epochs=40, val_interval=10), param_scheduler=[
        dict(type='LinearLR', begin=0, end=100, by_epoch=False),
        dict(type='MultiStepLR', begin=0, end=40, milestones=[30, 36], by_epoch=True)]))
    main_job.set_epochs(cfg, 20)
    assert cfg.train_cfg.max_epochs == 20 and cfg.train_cfg.val_interval == 5
    assert cfg.param_scheduler[0].end == 100, 'iteration-based warm-up is kept'
    assert cfg.param_scheduler[1].end == 20
    assert cfg.param_scheduler[1].milestones == [15, 18]


def test_data_from_an_older_generator_is_regenerated(tmp_path):
    """A dataset written by an earlier generator version is redrawn; any other COCO files in the
    data root are used as they are."""
    args = argparse.Namespace(data_root=str(tmp_path / 'generated'), num_train=2, num_val=1,
                              seed=0)
    main_job.ensure_data(args)
    ann_file = tmp_path / 'generated/annotations/person_keypoints_val.json'
    current = json.loads(ann_file.read_text())
    older = dict(current, info=dict(current['info'], version=1), annotations=[])
    ann_file.write_text(json.dumps(older))
    main_job.ensure_data(args)
    assert json.loads(ann_file.read_text()) == current

    other = tmp_path / 'other/annotations'
    other.mkdir(parents=True)
    own = dict(current, info=dict(description='my own keypoints'))
    for split in ('train', 'val'):
        (other / f'person_keypoints_{split}.json').write_text(json.dumps(own))
    main_job.ensure_data(argparse.Namespace(data_root=str(tmp_path / 'other'), num_train=2,
                                            num_val=1, seed=0))
    assert json.loads((other / 'person_keypoints_val.json').read_text()) == own

"""Shared fixtures.

``shared_data``: the real COCO/AIC samples of ``../shared/data``, found through the environment
variable ``REFINE_PLUGIN_DATA`` (``tools/run_tests.sh`` sets it when the folder is beside the repo);
tests that need it skip with a reason when the variable is unset, and fail when it names a folder
without the samples.

``tiny_coco``: a small generated multi-person COCO-format set (the plugin's own synthetic data
generator), made once per test session.

``pycocotools_stats``: the reference COCO API's summary of a results file, which metrics are
checked against.

``assert_same_keypoint_results``: two COCO keypoint results lists hold the same poses, result by
result (for paths that must predict the same thing: an equal AP alone says little when both are 0).

``markdown_rows``: the cells of the Markdown table rows a tool printed.

``fresh_visualizers`` (every test): MMEngine's visualizer instances are dropped after each test.
"""
import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
# the main job's PoseFix refiner and the pose model it starts from
MAIN_JOB_CONFIG = REPO_ROOT / 'configs/posefix/posefix_2xrefine-tiny_1xb32-1e_synthetic-96x72.py'
MAIN_JOB_POSE_CONFIG = REPO_ROOT / 'configs/cpu/td-hm_2xrefine-tiny_1xb16-18e_synthetic-96x72.py'


@pytest.fixture(autouse=True)
def fresh_visualizers():
    """Each test's Runner builds its own visualizer.

    MMPose's configs name theirs 'visualizer', and MMEngine hands a second Runner in the process
    the first one's instance, which saves into the first test's tmp_path (deleted once that test
    has passed). MMEngine's own ``RunnerTestCase`` clears ``Visualizer``'s instances; every
    subclass (MMPose's ``PoseLocalVisualizer``) keeps a dict of its own, hence the walk.
    """
    yield
    from mmengine.visualization import Visualizer
    classes = [Visualizer]
    while classes:
        cls = classes.pop()
        cls._instance_dict.clear()
        classes.extend(cls.__subclasses__())


@pytest.fixture(scope='session')
def shared_data():
    root = os.environ.get('REFINE_PLUGIN_DATA')
    if not root:
        pytest.skip('real sample data not found: set REFINE_PLUGIN_DATA to ../shared/data')
    # a set but wrong path is a broken setup, not an absent optional input
    if not Path(root, 'coco', 'test_coco.json').is_file():
        pytest.fail(f'REFINE_PLUGIN_DATA={root} holds no coco/test_coco.json')
    return Path(root)


def pycocotools_stats(ann_file, results, iou_type='keypoints'):
    """``COCOeval.stats`` of ``results`` (a results file or list) on ``ann_file``."""
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval
    gt = COCO(str(ann_file))
    evaluator = COCOeval(gt, gt.loadRes(results), iou_type)
    evaluator.evaluate()
    evaluator.accumulate()
    evaluator.summarize()
    return evaluator.stats.tolist()


def markdown_rows(text):
    """The stripped cells of every Markdown table row in ``text`` (header and separator too)."""
    return [[cell.strip() for cell in line.strip().strip('|').split('|')]
            for line in text.splitlines() if line.lstrip().startswith('|')]


def assert_same_keypoint_results(actual, expected, px_atol=1e-3, score_rtol=1e-4):
    """Same image ids, categories and order; (x, y) within ``px_atol``; scores and joint scores
    within ``score_rtol`` (relative: an untrained model's joint scores may be below 1e-8)."""
    import numpy as np
    assert len(actual) == len(expected) > 0
    assert [r['image_id'] for r in actual] == [r['image_id'] for r in expected]
    assert [r['category_id'] for r in actual] == [r['category_id'] for r in expected]
    np.testing.assert_allclose([r['score'] for r in actual], [r['score'] for r in expected],
                               rtol=score_rtol, atol=0)
    actual_kpts = np.array([r['keypoints'] for r in actual]).reshape(len(actual), -1, 3)
    expected_kpts = np.array([r['keypoints'] for r in expected]).reshape(len(expected), -1, 3)
    np.testing.assert_allclose(actual_kpts[..., :2], expected_kpts[..., :2], rtol=0, atol=px_atol)
    np.testing.assert_allclose(actual_kpts[..., 2], expected_kpts[..., 2], rtol=score_rtol, atol=0)


@pytest.fixture(scope='session')
def tiny_coco(tmp_path_factory):
    from refine_plugin.datasets.synthetic import generate_dataset
    out_dir = tmp_path_factory.mktemp('tiny_coco')
    return generate_dataset(out_dir, num_train=8, num_val=4, seed=0)


def tiny_topdown_config(data, work_dir, max_iters=2):
    """A small MMPose top-down config (ResNet-18 + heatmap head, 128x96) on a generated set.

    Iteration-based with a checkpoint every iteration, so runs of a few iterations save and resume.
    """
    from mmengine.config import Config
    codec = dict(type='MSRAHeatmap', input_size=(96, 128), heatmap_size=(24, 32), sigma=2)
    pipeline_head = [dict(type='LoadImage'), dict(type='GetBBoxCenterScale')]
    dataset = dict(type='CocoDataset', data_root=data['root'], data_mode='topdown')
    val_dataloader = dict(
        batch_size=4, num_workers=0, sampler=dict(type='DefaultSampler', shuffle=False),
        dataset=dict(**dataset, ann_file=data['val_ann'], data_prefix=dict(img=data['val_img']),
                     test_mode=True,
                     pipeline=[*pipeline_head, dict(type='TopdownAffine', input_size=(96, 128)),
                               dict(type='PackPoseInputs')]))
    evaluator = dict(type='CocoMetric', ann_file=data['val_ann'])
    return Config(dict(
        default_scope='mmpose',
        custom_imports=dict(imports=['refine_plugin'], allow_failed_imports=False),
        work_dir=str(work_dir),
        randomness=dict(seed=0),
        model=dict(
            type='TopdownPoseEstimator',
            data_preprocessor=dict(type='PoseDataPreprocessor', mean=[123.675, 116.28, 103.53],
                                   std=[58.395, 57.12, 57.375], bgr_to_rgb=True),
            backbone=dict(type='ResNet', depth=18),
            head=dict(type='HeatmapHead', in_channels=512, out_channels=17,
                      deconv_out_channels=(32, 32, 32), deconv_kernel_sizes=(4, 4, 4),
                      loss=dict(type='KeypointMSELoss', use_target_weight=True), decoder=codec),
            test_cfg=dict(flip_test=False)),
        train_dataloader=dict(
            batch_size=4, num_workers=0, sampler=dict(type='DefaultSampler', shuffle=True),
            dataset=dict(**dataset, ann_file=data['train_ann'], data_prefix=dict(img=data['train_img']),
                         pipeline=[*pipeline_head, dict(type='TopdownAffine', input_size=(96, 128)),
                                   dict(type='GenerateTarget', encoder=codec),
                                   dict(type='PackPoseInputs')])),
        val_dataloader=val_dataloader,
        test_dataloader=val_dataloader,
        val_evaluator=evaluator,
        test_evaluator=evaluator,
        train_cfg=dict(by_epoch=False, max_iters=max_iters, val_interval=10_000),
        val_cfg=dict(),
        test_cfg=dict(),
        optim_wrapper=dict(optimizer=dict(type='Adam', lr=1e-3)),
        default_hooks=dict(
            checkpoint=dict(type='CheckpointHook', interval=1, by_epoch=False),
            logger=dict(type='LoggerHook', interval=1)),
        log_level='WARNING',
    ))

"""tools/analysis/benchmark_training.py: a config's train iteration against the same with the
plugin's speed choices undone. Times are only parsed (timings belong to the benchmark, not to
tests); the variants' configs are checked."""
import subprocess
import sys

from mmengine.config import Config

from conftest import MAIN_JOB_POSE_CONFIG, REPO_ROOT, markdown_rows

sys.path.insert(0, str(REPO_ROOT / 'tools/analysis'))
import benchmark_training  # noqa: E402

sys.path.pop(0)


def speed_choices(cfg):
    return ([t['type'] for t in cfg.train_dataloader.dataset.pipeline if 'Load' in t['type']],
            cfg.optim_wrapper.get('constructor', 'DefaultOptimWrapperConstructor'),
            cfg.optim_wrapper.type, cfg.model.data_preprocessor.type)


def test_variants_undo_one_choice_each_then_all():
    cfg = Config.fromfile(MAIN_JOB_POSE_CONFIG)
    variants = benchmark_training.variants_of(cfg)
    ours = (['CachedLoadImage'], 'MergedGroupsOptimWrapperConstructor', 'AutocastOptimWrapper',
            'ChannelsLastPoseDataPreprocessor')
    defaults = (['LoadImage'], 'DefaultOptimWrapperConstructor', 'OptimWrapper',
                'PoseDataPreprocessor')
    expected = {'config': ours}
    for index, name in enumerate(['LoadImage (MMPose)',
                                  'DefaultOptimWrapperConstructor (MMEngine)',
                                  'OptimWrapper, float32 (MMEngine)',
                                  'PoseDataPreprocessor (MMPose)']):
        expected[name] = ours[:index] + defaults[index:index + 1] + ours[index + 1:]
    expected[benchmark_training.DEFAULTS] = defaults
    assert {name: speed_choices(variant) for name, variant in variants.items()} == expected
    assert speed_choices(cfg) == ours  # the config itself untouched
    # everything else as the config has it
    for variant in variants.values():
        assert variant.model.backbone == cfg.model.backbone and variant.model.head == cfg.model.head
        assert variant.optim_wrapper.optimizer == cfg.optim_wrapper.optimizer
        assert variant.optim_wrapper.paramwise_cfg == cfg.optim_wrapper.paramwise_cfg
        assert len(variant.train_dataloader.dataset.pipeline) == len(
            cfg.train_dataloader.dataset.pipeline)


def test_command_prints_a_row_per_variant(tiny_coco):
    run = subprocess.run(
        [sys.executable, 'tools/analysis/benchmark_training.py', str(MAIN_JOB_POSE_CONFIG),
         '--data-root', tiny_coco['root'], '--iterations', '1', '--rounds', '1', '--threads', '2',
         '--device', 'cpu'],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    variant_names = benchmark_training.variants_of(Config.fromfile(MAIN_JOB_POSE_CONFIG))
    rows = {cells[0]: cells[1:] for cells in markdown_rows(run.stdout)
            if len(cells) == 5 and cells[0] in variant_names}
    assert len(rows) == 6, run.stdout
    assert rows[benchmark_training.DEFAULTS][3] == '1.000 [1.000, 1.000]'
    for data, step, iteration, _ in rows.values():
        assert float(data) > 0 and float(step) > 0
        assert abs(float(iteration) - float(data) - float(step)) <= 0.11

"""Checkpoints MMEngine saves load back under torch >= 2.6 (weights_only default) through the
plugin's loader: Runner resume, ``load_checkpoint`` and ``mmpose.apis.init_model``."""
import json
import subprocess
import sys
from pathlib import Path

import torch
from conftest import REPO_ROOT, tiny_topdown_config
from mmengine.hooks import Hook
from mmengine.runner import Runner, load_checkpoint
from pycocotools.coco import COCO


class StartIterationRecorder(Hook):
    """Records the iteration a run's training starts from (after any resume)."""
    start_iter = None

    def before_train(self, runner):
        self.start_iter = runner.iter


def _file_states(work_dir, names):
    """Inode and mtime (ns) of checkpoints: saving one again (atomically, by a new file renamed
    over it) changes both."""
    return {name: (Path(work_dir, name).stat().st_ino, Path(work_dir, name).stat().st_mtime_ns)
            for name in names}


def _train(cfg):
    runner = Runner.from_cfg(cfg)
    runner.train()
    return runner


def test_train_resume_and_init_model(tiny_coco, tmp_path):
    first = _train(tiny_topdown_config(tiny_coco, tmp_path, max_iters=2))
    ckpt = tmp_path / 'iter_2.pth'
    assert ckpt.is_file()
    # The saved checkpoint holds more than tensors: exactly what weights_only=True rejects.
    saved = torch.load(ckpt, map_location='cpu', weights_only=False)
    assert 'message_hub' in saved and saved['meta']['iter'] == 2

    resumed_cfg = tiny_topdown_config(tiny_coco, tmp_path, max_iters=3)
    resumed_cfg.resume = True
    saved_before = _file_states(tmp_path, ['iter_1.pth', 'iter_2.pth'])
    resumed = Runner.from_cfg(resumed_cfg)
    start = StartIterationRecorder()
    resumed.register_hook(start)
    resumed.train()
    # A fresh 3-iteration run also ends at iter 3 with iter_3.pth and 3 losses: only the start
    # iteration and the untouched earlier checkpoints show that training continued from iter_2.
    assert start.start_iter == 2
    assert _file_states(tmp_path, ['iter_1.pth', 'iter_2.pth']) == saved_before
    assert resumed.iter == 3
    assert (tmp_path / 'iter_3.pth').is_file()
    # The message hub came back from the pickle: its loss history holds the 2 saved iterations + 1.
    assert len(resumed.message_hub.get_scalar('train/loss').data[0]) == 3

    from mmpose.apis import inference_topdown, init_model
    model = init_model(tiny_topdown_config(tiny_coco, tmp_path), str(ckpt), device='cpu')
    first_state = first.model.state_dict()
    for name, tensor in model.state_dict().items():
        assert torch.equal(tensor, first_state[name]), name
    image = next(Path(tiny_coco['val_img']).glob('*.jpg'))
    result = inference_topdown(model, str(image))
    assert result[0].pred_instances.keypoints.shape[-2:] == (17, 2)

    raw = torch.nn.Linear(1, 1)
    assert 'state_dict' in load_checkpoint(raw, str(ckpt), map_location='cpu', strict=False)


def test_tools_train_and_mim_train(tiny_coco, tmp_path):
    cfg_file = tmp_path / 'tiny.py'
    tiny_topdown_config(tiny_coco, tmp_path / 'unused').dump(str(cfg_file))
    subprocess.run([sys.executable, 'tools/train.py', str(cfg_file), '--work-dir',
                    str(tmp_path / 'tools_train')], check=True, cwd=REPO_ROOT)
    assert (tmp_path / 'tools_train' / 'iter_2.pth').is_file()
    saved_before = _file_states(tmp_path / 'tools_train', ['iter_1.pth', 'iter_2.pth'])
    run_logs = '*/vis_data/scalars.json'
    first_runs = set((tmp_path / 'tools_train').glob(run_logs))
    resumed = subprocess.run([sys.executable, 'tools/train.py', str(cfg_file), '--work-dir',
                              str(tmp_path / 'tools_train'), '--resume',
                              '--cfg-options', 'train_cfg.max_iters=3'],
                             check=True, cwd=REPO_ROOT, capture_output=True, text=True)
    assert (tmp_path / 'tools_train' / 'iter_3.pth').is_file()
    # Evidence that the run continued from iter_2 rather than starting again: MMEngine's
    # iteration loop skips the 2 trained batches (a WARNING, so printed at log_level WARNING),
    # the resumed run logged iteration 3 alone, and iter_1/iter_2 were not saved again.
    assert 'Advance dataloader 2 steps' in resumed.stdout + resumed.stderr
    (resumed_scalars,) = set((tmp_path / 'tools_train').glob(run_logs)) - first_runs
    logged_iters = [json.loads(line)['iter'] for line in resumed_scalars.read_text().splitlines()
                    if 'loss' in json.loads(line)]
    assert logged_iters == [3]
    assert _file_states(tmp_path / 'tools_train', ['iter_1.pth', 'iter_2.pth']) == saved_before

    # The run validates its last iteration's model in memory (max_iters ends training); that
    # model's predictions are kept to compare with the reloaded checkpoint's.
    mim_cfg = tiny_topdown_config(tiny_coco, tmp_path / 'unused')
    mim_cfg.val_evaluator = dict(type='CocoMetric', ann_file=tiny_coco['val_ann'],
                                 outfile_prefix=str(tmp_path / 'trained'))
    mim_cfg_file = tmp_path / 'tiny_mim.py'
    mim_cfg.dump(str(mim_cfg_file))
    mim = Path(sys.executable).with_name('mim')
    subprocess.run([str(mim), 'train', 'mmpose', str(mim_cfg_file), '--work-dir',
                    str(tmp_path / 'mim_train')], check=True, cwd=tmp_path)
    assert (tmp_path / 'mim_train' / 'iter_2.pth').is_file()

    subprocess.run([sys.executable, 'tools/test.py', str(cfg_file),
                    str(tmp_path / 'mim_train' / 'iter_2.pth'), '--work-dir',
                    str(tmp_path / 'tools_test'), '--out', str(tmp_path / 'metrics.json'),
                    '--cfg-options', f'test_evaluator.outfile_prefix={tmp_path / "reloaded"}'],
                   check=True, cwd=REPO_ROOT)
    trained = json.loads((tmp_path / 'trained.keypoints.json').read_text())
    reloaded = json.loads((tmp_path / 'reloaded.keypoints.json').read_text())
    assert len(reloaded) == len(COCO(tiny_coco['val_ann']).getAnnIds())
    assert reloaded == trained
    metrics = json.loads((tmp_path / 'metrics.json').read_text())
    (scalars,) = (tmp_path / 'mim_train').glob('*/vis_data/scalars.json')
    val_metrics = json.loads(scalars.read_text().splitlines()[-1])
    assert metrics == {k: v for k, v in val_metrics.items() if k.startswith('coco/')}

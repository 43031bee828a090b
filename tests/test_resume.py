"""Lossless resume: SIGKILL mid-epoch + ``--resume`` ends with the uninterrupted run's weights, and
a kill during a checkpoint write never leaves a checkpoint that resume picks up."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from tiny_topdown import write_tiny_config

REPO = Path(__file__).resolve().parents[1]
ITERS_PER_EPOCH = 6  # 24 synthetic people in tiny_coco's train split, batch size 4
KILL_AT_ITER = 9     # the third iteration of the second epoch

PAUSE_HOOK = '''
import time
from mmengine.hooks import Hook
from mmpose.registry import HOOKS


@HOOKS.register_module()
class PauseAfterCheckpointHook(Hook):
    """Hold the run still once the checkpoint of iteration ``at_iter`` is written."""
    priority = 'LOWEST'  # after CheckpointHook

    def __init__(self, at_iter):
        self.at_iter = at_iter

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        if runner.iter + 1 == self.at_iter:
            time.sleep(600)
'''


def _env(tmp_path):
    env = dict(os.environ, OMP_NUM_THREADS='1')
    env['PYTHONPATH'] = os.pathsep.join([str(tmp_path), str(REPO), env.get('PYTHONPATH', '')])
    return env


def _train_cmd(config, *args):
    return [sys.executable, str(REPO / 'tools/train.py'), str(config), '--no-validate', *args]


def _final_weights(work_dir):
    last = Path(work_dir, 'last_checkpoint').read_text().strip()
    assert Path(last).name == f'iter_{2 * ITERS_PER_EPOCH}.pth', last
    return torch.load(last, map_location='cpu', weights_only=False)['state_dict']


def _wait_for_checkpoint(proc, work_dir, name, timeout=240):
    last_checkpoint = Path(work_dir, 'last_checkpoint')
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, 'the training run ended before it could be killed'
        if last_checkpoint.is_file() and last_checkpoint.read_text().strip().endswith(name):
            return
        time.sleep(0.2)
    raise TimeoutError(f'{name} was not written within {timeout}s')


@pytest.mark.parametrize('num_workers', [0, 2])
def test_sigkill_mid_epoch_then_resume_matches_uninterrupted_run(tiny_coco, tmp_path, num_workers):
    (tmp_path / 'pause_hook.py').write_text(PAUSE_HOOK)
    env = _env(tmp_path)
    options = dict(batch_size=4, num_workers=num_workers)
    config = write_tiny_config(tmp_path / 'tiny.py', tiny_coco, tmp_path / 'unused', **options)
    paused_config = write_tiny_config(
        tmp_path / 'tiny_paused.py', tiny_coco, tmp_path / 'unused', **options,
        extra_imports=['pause_hook'],
        custom_hooks=[dict(type='PauseAfterCheckpointHook', at_iter=KILL_AT_ITER)])

    subprocess.run(_train_cmd(config, '--work-dir', str(tmp_path / 'uninterrupted')),
                   env=env, check=True, capture_output=True)

    killed_dir = tmp_path / 'killed'
    proc = subprocess.Popen(_train_cmd(paused_config, '--work-dir', str(killed_dir)), env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_for_checkpoint(proc, killed_dir, f'iter_{KILL_AT_ITER}.pth')
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert not (killed_dir / f'iter_{KILL_AT_ITER + 1}.pth').exists()

    resumed = subprocess.run(_train_cmd(config, '--work-dir', str(killed_dir), '--resume'),
                             env=env, check=True, capture_output=True, text=True)
    log = resumed.stdout + resumed.stderr
    assert f'iter_{KILL_AT_ITER}.pth' in log
    assert f'Replaying the {KILL_AT_ITER - ITERS_PER_EPOCH} batches of epoch 2' in log

    expected = _final_weights(tmp_path / 'uninterrupted')
    actual = _final_weights(killed_dir)
    assert expected.keys() == actual.keys()
    different = [k for k in expected if not torch.equal(expected[k], actual[k])]
    assert not different, f'weights differ after resume: {different[:5]}'


KILLED_DURING_WRITE = '''
import os, sys, time
import torch
import refine_plugin  # noqa: F401
from mmengine.runner.checkpoint import save_checkpoint

work_dir = sys.argv[1]
save_checkpoint({'state_dict': {'w': torch.ones(10)}}, os.path.join(work_dir, 'iter_1.pth'))
with open(os.path.join(work_dir, 'last_checkpoint'), 'w') as f:  # as CheckpointHook does
    f.write(os.path.join(work_dir, 'iter_1.pth'))


def stall(fd):  # the bytes of iter_2 are in the file, not yet on disk nor published
    print('writing', flush=True)
    time.sleep(600)


os.fsync = stall
save_checkpoint({'state_dict': {'w': torch.zeros(1 << 20)}}, os.path.join(work_dir, 'iter_2.pth'))
'''


def test_kill_during_checkpoint_write_leaves_previous_checkpoint_for_resume(tmp_path):
    from mmengine.runner.checkpoint import find_latest_checkpoint

    script = tmp_path / 'save.py'
    script.write_text(KILLED_DURING_WRITE)
    proc = subprocess.Popen([sys.executable, str(script), str(tmp_path)], env=_env(tmp_path),
                            stdout=subprocess.PIPE, text=True)
    try:
        assert any(line.strip() == 'writing' for line in proc.stdout), 'the save ended unkilled'
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()

    partial = [p.name for p in tmp_path.glob('.iter_2.pth.*.tmp')]
    assert partial, 'the kill did not happen during the write'
    assert not (tmp_path / 'iter_2.pth').exists()
    latest = find_latest_checkpoint(str(tmp_path))
    assert Path(latest).name == 'iter_1.pth'
    assert torch.equal(torch.load(latest, weights_only=False)['state_dict']['w'], torch.ones(10))


def test_failed_write_leaves_neither_target_nor_temporary_file(tmp_path, monkeypatch):
    import refine_plugin  # noqa: F401
    from mmengine.fileio import get_file_backend

    backend = get_file_backend(str(tmp_path))
    target = tmp_path / 'iter_1.pth'
    backend.put(b'complete', target)

    def disk_full(fd):
        raise OSError(28, 'No space left on device')

    monkeypatch.setattr(os, 'fsync', disk_full)
    with pytest.raises(OSError, match='No space left'):
        backend.put(b'new but never finished', target)
    assert target.read_bytes() == b'complete'
    assert sorted(p.name for p in tmp_path.iterdir()) == ['iter_1.pth']


def test_resume_survives_a_truncated_last_checkpoint_pointer(tmp_path):
    import importlib.util
    from types import SimpleNamespace

    from mmengine.config import Config

    spec = importlib.util.spec_from_file_location('train_tool', REPO / 'tools/train.py')
    train_tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(train_tool)
    for step in (1, 2):
        (tmp_path / f'iter_{step}.pth').write_bytes(b'complete')
        os.utime(tmp_path / f'iter_{step}.pth', (step, step))
    (tmp_path / 'last_checkpoint').write_text('')  # killed between open('w') and write
    args = SimpleNamespace(launcher='none', work_dir=str(tmp_path), amp=False, resume='auto',
                           no_validate=False, auto_scale_lr=False, cfg_options=None)
    cfg = train_tool.merge_args(Config(dict(work_dir=None)), args)
    assert cfg.resume and cfg.load_from == str(tmp_path / 'iter_2.pth')

    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'iter_1.pth'))
    assert train_tool.merge_args(Config(), args).load_from == str(tmp_path / 'iter_1.pth')


def test_resume_skips_best_checkpoints_and_follows_a_moved_work_dir(tmp_path):
    """best_*.pth lack the optimizer and scheduler states; the pointer's absolute path is stale
    once the work dir moves."""
    from refine_plugin.engine import find_resumable_checkpoint

    for order, name in enumerate(('epoch_9.pth', 'epoch_10.pth', 'best_coco_AP_epoch_10.pth')):
        (tmp_path / name).write_bytes(b'complete')
        os.utime(tmp_path / name, (order, order))  # best saved last, as after a validation
    assert find_resumable_checkpoint(str(tmp_path)) == str(tmp_path / 'epoch_10.pth')
    (tmp_path / 'last_checkpoint').write_text('/old/place/of/the/run/epoch_9.pth')
    assert find_resumable_checkpoint(str(tmp_path)) == str(tmp_path / 'epoch_9.pth')
    (tmp_path / 'last_checkpoint').write_text('/old/place/of/the/run/epoch_11.pth')  # not here
    assert find_resumable_checkpoint(str(tmp_path)) == str(tmp_path / 'epoch_10.pth')

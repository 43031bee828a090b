"""Distributed training through ``tools/dist_train.sh`` (torchrun, gloo on CPU) with 2 processes."""
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import torch

from tiny_topdown import write_tiny_config

REPO = Path(__file__).resolve().parents[1]

RECORDER_HOOK = '''
import json
import os

import torch
import torch.distributed as dist
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmpose.registry import HOOKS


@HOOKS.register_module()
class RankRecorderHook(Hook):
    """Record, per rank, the world size, the samples trained on, the weights after the first
    step and every checkpoint save this rank performed."""

    def before_train(self, runner):
        self.record = dict(rank=dist.get_rank(), world_size=dist.get_world_size(),
                           wrapped=is_model_wrapper(runner.model), ids=[], saves=[])

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        self.record['ids'] += [int(s.id) for s in data_batch['data_samples']]
        if runner.iter == 0:
            model = runner.model.module if is_model_wrapper(runner.model) else runner.model
            # Parameters only: BatchNorm running statistics stay per rank (broadcast_buffers=False)
            torch.save(dict(model.named_parameters()),
                       os.path.join(runner.work_dir, f'rank{dist.get_rank()}_step1.pt'))

    def before_save_checkpoint(self, runner, checkpoint):
        self.record['saves'].append(checkpoint['meta']['iter'])

    def after_train(self, runner):
        with open(os.path.join(runner.work_dir, f'rank{dist.get_rank()}.json'), 'w') as f:
            json.dump(self.record, f)
'''


def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def test_dist_train_two_processes_synchronise_and_save_once(tiny_coco, tmp_path):
    (tmp_path / 'rank_recorder.py').write_text(RECORDER_HOOK)
    work_dir = tmp_path / 'work'
    config = write_tiny_config(
        tmp_path / 'tiny.py', tiny_coco, work_dir, max_epochs=1, batch_size=4,
        extra_imports=['rank_recorder'], custom_hooks=[dict(type='RankRecorderHook')])
    env = dict(os.environ, PYTHON=sys.executable, PORT=str(_free_port()), OMP_NUM_THREADS='1',
               PYTHONPATH=os.pathsep.join([str(tmp_path), str(REPO)]))
    subprocess.run(['bash', str(REPO / 'tools/dist_train.sh'), str(config), '2', '--no-validate'],
                   env=env, check=True, capture_output=True, timeout=300)

    records = [json.loads((work_dir / f'rank{r}.json').read_text()) for r in range(2)]
    assert [(r['rank'], r['world_size'], r['wrapped']) for r in records] == [
        (0, 2, True), (1, 2, True)]
    # Each rank trained on its own half of the 24 people, so equal weights need synchronised grads.
    ids = [set(r['ids']) for r in records]
    assert ids[0] and ids[1] and not ids[0] & ids[1]
    assert len(ids[0] | ids[1]) == 24

    step1 = [torch.load(work_dir / f'rank{r}_step1.pt', weights_only=False) for r in range(2)]
    assert step1[0].keys() == step1[1].keys()
    assert all(torch.equal(step1[0][k], step1[1][k]) for k in step1[0])

    num_iters = 3  # 24 people / (2 ranks x 4 per batch)
    assert records[0]['saves'] == list(range(1, num_iters + 1))
    assert records[1]['saves'] == []
    assert sorted(p.name for p in work_dir.glob('*.pth')) == [
        f'iter_{i}.pth' for i in range(1, num_iters + 1)]
    assert not list(work_dir.glob('.*.tmp'))
    final = torch.load(work_dir / f'iter_{num_iters}.pth', weights_only=False)
    assert final['meta']['iter'] == num_iters
    assert not torch.equal(final['state_dict']['head.final_layer.weight'],
                           step1[0]['head.final_layer.weight'])

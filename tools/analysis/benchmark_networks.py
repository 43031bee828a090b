"""Params, GFLOPs and CPU latency of the Table 1/2 networks against MMPose's own MSPN.

For each config the plugin's model and MMPose's ``MSPN`` + ``MSPNHead`` with the same stages,
units, blocks and input are measured in the same run (network forward in ``tensor`` mode: backbone
and head, no flip test or decoding), and the ratios ours / MSPN are printed::

    python tools/analysis/benchmark_networks.py
    python tools/analysis/benchmark_networks.py configs/refine50/*.py --repeats 10 --threads 2

Latency is the median of ``--repeats`` timed forwards after ``--warmup`` untimed ones, divided by
the batch size (ms per person). On a shared machine compare the ratios, not the absolute times.
"""
import argparse
import copy
import statistics
import time
from pathlib import Path

import torch
from mmengine.analysis import get_model_complexity_info
from mmengine.config import Config
from mmengine.logging import MMLogger
from mmengine.registry import init_default_scope
from mmpose.registry import MODELS

from refine_plugin.models.heads.multi_stage_refine_head import (coarse_to_fine_levels,
                                                              coarse_to_fine_losses)

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CONFIGS = [
    'configs/mspn/td-hm_4xmspn50_8xb32-210e_coco-256x192.py',
    'configs/refine50/td-hm_4xrefine50_8xb32-210e_coco-256x192.py',
    'configs/refine50/td-hm_4xrefine50_8xb32-210e_coco-384x288.py',
]


def build_network(model_cfg):
    """The pose model of ``model_cfg`` with random init (no ImageNet download), in eval mode."""
    model_cfg = copy.deepcopy(model_cfg)
    model_cfg.backbone.pop('init_cfg', None)
    model = MODELS.build(model_cfg)
    model.eval()
    return model


def mmpose_mspn_counterpart(model_cfg):
    """``model_cfg`` with MMPose's MSPN backbone and MSPNHead at the same stages/units/blocks."""
    model_cfg = copy.deepcopy(model_cfg)
    backbone, head = model_cfg.backbone, model_cfg.head
    model_cfg.backbone = dict(type='MSPN', unit_channels=backbone.unit_channels,
                              num_stages=backbone.num_stages, num_units=backbone.num_units,
                              num_blocks=list(backbone.num_blocks), norm_cfg=backbone.norm_cfg)
    model_cfg.head = dict(
        type='MSPNHead', num_stages=head.num_stages, num_units=head.num_units,
        out_shape=head.out_shape, unit_channels=head.unit_channels,
        out_channels=head.out_channels, norm_cfg=head.norm_cfg,
        level_indices=coarse_to_fine_levels(head.num_stages, head.num_units),
        loss=coarse_to_fine_losses(head.num_stages, head.num_units))
    return model_cfg


def count_params(model):
    return sum(p.numel() for p in model.parameters())


def count_gflops(model, input_shape):
    """MMEngine's FLOP count (one multiply-add = one FLOP, as MMPose's tables) in G."""
    device = next(model.parameters()).device
    inputs = (torch.rand(1, *input_shape, device=device), None)  # (images, no data samples)
    info = get_model_complexity_info(model, inputs=inputs, show_table=False, show_arch=False)
    return info['flops'] / 1e9


def synchronize(device):
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


@torch.no_grad()
def interleaved_latency(models, input_shape, batch_size, repeats, warmup):
    """Median forward time per person (ms) of each model, timed in turn within every round.

    Round-robin timing exposes all models to the same load and warm-up, so their ratio holds on a
    shared machine even when the absolute times drift.
    """
    device = next(models[0].parameters()).device
    inputs = torch.rand(batch_size, *input_shape, device=device)
    timings = [[] for _ in models]
    for run in range(warmup + repeats):
        for model, model_timings in zip(models, timings):
            synchronize(device)
            start = time.perf_counter()
            model(inputs, None, mode='tensor')
            synchronize(device)
            if run >= warmup:
                model_timings.append(time.perf_counter() - start)
    return [statistics.median(t) * 1e3 / batch_size for t in timings]


def measure_pair(models, input_shape, batch_sizes, repeats, warmup):
    """Rows of params, GFLOPs and latency per batch size for each model."""
    rows = [dict(params=count_params(m) / 1e6, gflops=count_gflops(m, input_shape))
            for m in models]
    for batch_size in batch_sizes:
        latencies = interleaved_latency(models, input_shape, batch_size, repeats, warmup)
        for row, latency in zip(rows, latencies):
            row[f'ms_b{batch_size}'] = latency
    return rows


def input_shape_of(cfg):
    codec = cfg.codec[0] if isinstance(cfg.codec, list) else cfg.codec
    width, height = codec['input_size']
    return (3, height, width)


def format_table(rows, batch_sizes):
    columns = ['config', 'network', 'params (M)', 'GFLOPs'] + [
        f'ms/person b{b}' for b in batch_sizes]
    lines = ['| ' + ' | '.join(columns) + ' |', '|' + '---|' * len(columns)]
    for row in rows:
        digits = 2 if row['network'].startswith('ratio') else 1
        numbers = [row['params'], row['gflops']] + [row[f'ms_b{b}'] for b in batch_sizes]
        values = [row['config'], row['network']] + [f'{n:.{digits}f}' for n in numbers]
        lines.append('| ' + ' | '.join(values) + ' |')
    return '\n'.join(lines)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('configs', nargs='*', default=DEFAULT_CONFIGS)
    parser.add_argument('--batch-sizes', type=int, nargs='+', default=[1, 8])
    parser.add_argument('--repeats', type=int, default=5)
    parser.add_argument('--warmup', type=int, default=2)
    parser.add_argument('--threads', type=int, default=None,
                        help='torch CPU threads (default: torch\'s choice)')
    parser.add_argument('--device', default='cpu')
    return parser.parse_args()


def main():
    args = parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    MMLogger.get_instance('mmengine', log_level='ERROR')
    init_default_scope('mmpose')
    rows = []
    for config in args.configs:
        path = Path(config) if Path(config).is_file() else REPO_ROOT / config
        cfg = Config.fromfile(str(path))
        input_shape = input_shape_of(cfg)
        models = [build_network(model_cfg).to(args.device)
                  for model_cfg in (cfg.model, mmpose_mspn_counterpart(cfg.model))]
        ours, mspn = measure_pair(models, input_shape, args.batch_sizes, args.repeats,
                                  args.warmup)
        ratio = {key: ours[key] / mspn[key] for key in ours}
        rows += [dict(ours, config=path.stem, network='plugin'),
                 dict(mspn, config=path.stem, network='MMPose MSPN'),
                 dict(ratio, config=path.stem, network='ratio plugin/MSPN')]
        del models
    print(f'torch threads: {torch.get_num_threads()}, device: {args.device}, '
          f'median of {args.repeats} runs after {args.warmup} warm-up')
    print(format_table(rows, args.batch_sizes))


if __name__ == '__main__':
    main()

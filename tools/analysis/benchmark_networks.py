"""Params, GFLOPs and CPU latency of the Table 1/2 networks against MMPose's own MSPN.

For each config the plugin's model and MMPose's ``MSPN`` + ``MSPNHead`` with the same stages,
units, blocks and input are measured in the same run (network forward in ``tensor`` mode: backbone
and head, no flip test or decoding), and the ratios ours / MSPN are printed::

    python tools/analysis/benchmark_networks.py
    python tools/analysis/benchmark_networks.py configs/refine50/*.py --repeats 10 --threads 2

Latency is the median of ``--repeats`` timed forwards after ``--warmup`` untimed ones, divided by
the batch size (ms per person). The two networks take turns within every round, and the latency
ratio is the median of the rounds' ratios, with their quartiles in brackets: on a shared machine
compare the ratios, not the absolute times, and read a ratio whose quartiles straddle a target as
undecided by that run.
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
# the networks of the paper's Tables 1 and 2 (also tools/benchmark.py's default)
TABLE_CONFIGS = [
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
    """Forward times per person (ms) of each model, one per round, timed in turn within a round.

    Round-robin timing exposes all models to the same load and warm-up, so the ratio of a round's
    times holds on a shared machine even when the absolute times drift.
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
    return [[seconds * 1e3 / batch_size for seconds in t] for t in timings]


def measure_pair(models, input_shape, batch_sizes, repeats, warmup):
    """Rows of params, GFLOPs and median latency per batch size for the two models, and a third
    of their ratios (latency: the median and quartiles of the rounds' ratios)."""
    rows = [dict(params=count_params(m) / 1e6, gflops=count_gflops(m, input_shape))
            for m in models]
    ratio = {key: rows[0][key] / rows[1][key] for key in rows[0]}
    for batch_size in batch_sizes:
        key = f'ms_b{batch_size}'
        times = interleaved_latency(models, input_shape, batch_size, repeats, warmup)
        for row, model_times in zip(rows, times):
            row[key] = statistics.median(model_times)
        round_ratios = [ours / mspn for ours, mspn in zip(*times)]
        ratio[key] = statistics.median(round_ratios)
        ratio[key + '_quartiles'] = quartiles(round_ratios)
    return rows + [ratio]


def quartiles(values):
    """The first and third quartiles, within the values' range (the value itself if alone)."""
    if len(values) == 1:
        return values[0], values[0]
    lower, _, upper = statistics.quantiles(values, n=4, method='inclusive')
    return lower, upper


def input_shape_of(cfg):
    codec = cfg.codec[0] if isinstance(cfg.codec, list) else cfg.codec
    width, height = codec['input_size']
    return (3, height, width)


def format_table(rows, batch_sizes):
    columns = ['config', 'network', 'params (M)', 'GFLOPs'] + [
        f'ms/person b{b}' for b in batch_sizes]
    lines = ['| ' + ' | '.join(columns) + ' |', '|' + '---|' * len(columns)]
    for row in rows:
        is_ratio = row['network'].startswith('ratio')
        digits = 2 if is_ratio else 1
        values = [row['config'], row['network']] + [
            f'{row[key]:.{digits}f}' for key in ('params', 'gflops')]
        for batch_size in batch_sizes:
            key = f'ms_b{batch_size}'
            value = f'{row[key]:.{digits}f}'
            if is_ratio:
                lower, upper = row[key + '_quartiles']
                value += f' [{lower:.2f}, {upper:.2f}]'
            values.append(value)
        lines.append('| ' + ' | '.join(values) + ' |')
    return '\n'.join(lines)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('configs', nargs='*', default=TABLE_CONFIGS)
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
        ours, mspn, ratio = measure_pair(models, input_shape, args.batch_sizes, args.repeats,
                                         args.warmup)
        rows += [dict(ours, config=path.stem, network='plugin'),
                 dict(mspn, config=path.stem, network='MMPose MSPN'),
                 dict(ratio, config=path.stem, network='ratio plugin/MSPN')]
        del models
    print(f'torch threads: {torch.get_num_threads()}, device: {args.device}, '
          f'median of {args.repeats} runs after {args.warmup} warm-up')
    print(format_table(rows, args.batch_sizes))


if __name__ == '__main__':
    main()

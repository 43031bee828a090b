"""A config's train iteration against the same iteration with each of the plugin's speed choices
undone, and with all of them undone (MMPose's and MMEngine's defaults).

The choices, where a config makes them: ``CachedLoadImage`` for MMPose's ``LoadImage``,
``MergedGroupsOptimWrapperConstructor`` for MMEngine's ``DefaultOptimWrapperConstructor``,
``AutocastOptimWrapper`` (bfloat16) for MMEngine's ``OptimWrapper`` (float32) and
``ChannelsLastPoseDataPreprocessor`` for MMPose's ``PoseDataPreprocessor``. Every variant is built
in one process (its train pipeline, a model of random init, its optimizer) and timed there::

    python tools/analysis/benchmark_training.py CONFIG [--data-root D] [--iterations 4] [--rounds 7]

An iteration is loading a batch through the variant's pipeline (``data``) and one optimizer step
on it (``step``: forward, loss, backward, update, under the variant's optim wrapper). Every round
times each variant over the same ``--iterations`` batches in turn, after one untimed round (so
the caches are as warm as after a training's first epoch). Times are medians over the rounds; a
ratio is the median of the rounds' ratios to the defaults' iteration, with their quartiles.
"""
import argparse
import copy
import statistics
import time

import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.logging import MMLogger
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope
from mmpose.registry import DATASETS, MODELS

from benchmark_networks import quartiles, synchronize
from refine_plugin.models.pretrained_init import is_pretrained


# Each undoes one choice in place and returns whether the config had made it.
def undo_cached_loading(cfg):
    pipeline = cfg.train_dataloader.dataset.pipeline
    undone = False
    for index, transform in enumerate(pipeline):
        if transform['type'] == 'CachedLoadImage':
            pipeline[index] = dict(transform, type='LoadImage')
            pipeline[index].pop('max_cached_mb', None)
            undone = True
    return undone


def undo_merged_groups(cfg):
    if cfg.optim_wrapper.get('constructor') != 'MergedGroupsOptimWrapperConstructor':
        return False
    cfg.optim_wrapper['constructor'] = 'DefaultOptimWrapperConstructor'
    return True


def undo_autocast(cfg):
    if cfg.optim_wrapper.get('type') != 'AutocastOptimWrapper':
        return False
    cfg.optim_wrapper['type'] = 'OptimWrapper'
    cfg.optim_wrapper.pop('dtype', None)
    return True


def undo_channels_last(cfg):
    if cfg.model.data_preprocessor.get('type') != 'ChannelsLastPoseDataPreprocessor':
        return False
    cfg.model.data_preprocessor['type'] = 'PoseDataPreprocessor'
    return True


# row name: how to undo the choice
SPEED_CHOICES = {
    'LoadImage (MMPose)': undo_cached_loading,
    'DefaultOptimWrapperConstructor (MMEngine)': undo_merged_groups,
    'OptimWrapper, float32 (MMEngine)': undo_autocast,
    'PoseDataPreprocessor (MMPose)': undo_channels_last,
}
DEFAULTS = 'defaults (all undone)'


def variants_of(cfg):
    """{row name: config}: the config, one variant per choice it makes with that choice undone,
    and one with every choice undone."""
    variants = {'config': cfg}
    defaults = copy.deepcopy(cfg)
    for name, undo in SPEED_CHOICES.items():
        variant = copy.deepcopy(cfg)
        if undo(variant):
            variants[name] = variant
            undo(defaults)
    variants[DEFAULTS] = defaults
    return variants


def without_pretrained_weights(model_cfg):
    """``model_cfg`` without ``Pretrained`` inits (of the model or its backbone): timing needs no
    ImageNet download, nor a checkpoint a refiner config expects from an earlier run."""
    model_cfg = copy.deepcopy(model_cfg)
    for part in (model_cfg, model_cfg.backbone):
        if is_pretrained(part.get('init_cfg')):
            part.pop('init_cfg')
    return model_cfg


class TrainIteration:
    """One variant: its dataset, a model with the seed's random init and its optimizer."""

    def __init__(self, cfg, device, seed=0):
        self.dataset = DATASETS.build(cfg.train_dataloader.dataset)
        torch.manual_seed(seed)
        self.model = MODELS.build(without_pretrained_weights(cfg.model))
        self.model.init_weights()
        self.model.to(device).train()
        self.optim_wrapper = build_optim_wrapper(self.model, cfg.optim_wrapper)
        self.device = device

    def load(self, indices):
        return pseudo_collate([self.dataset[index] for index in indices])

    def step(self, batch):
        with self.optim_wrapper.optim_context(self.model):
            inputs = self.model.data_preprocessor(batch, training=True)
            losses = self.model(**inputs, mode='loss')
        self.optim_wrapper.update_params(self.model.parse_losses(losses)[0])
        synchronize(self.device)


def interleaved_iterations(iterations, batches, rounds):
    """{name: (data seconds, step seconds) per round}, each round's mean per batch."""
    timings = {name: [] for name in iterations}
    for run in range(rounds + 1):
        for name, iteration in iterations.items():
            data = step = 0.
            for indices in batches:
                start = time.perf_counter()
                batch = iteration.load(indices)
                loaded = time.perf_counter()
                iteration.step(batch)
                data += loaded - start
                step += time.perf_counter() - loaded
            if run:  # the first round warms caches and allocators
                timings[name].append((data / len(batches), step / len(batches)))
    return timings


def table(timings, reference):
    lines = ['| variant | data (ms per batch) | step (ms) | iteration (ms) | '
             f'ratio to {reference} |', '|---|---|---|---|---|']
    reference_totals = [data + step for data, step in timings[reference]]
    for name, rounds in timings.items():
        totals = [data + step for data, step in rounds]
        ratios = [total / ref for total, ref in zip(totals, reference_totals)]
        lower, upper = quartiles(ratios)
        lines.append(f'| {name} | {statistics.median(d for d, _ in rounds) * 1e3:.1f} | '
                     f'{statistics.median(s for _, s in rounds) * 1e3:.1f} | '
                     f'{statistics.median(totals) * 1e3:.1f} | '
                     f'{statistics.median(ratios):.3f} [{lower:.3f}, {upper:.3f}] |')
    return '\n'.join(lines)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('--data-root', help="override the train dataset's data_root")
    parser.add_argument('--iterations', type=int, default=4, help='batches per round')
    parser.add_argument('--rounds', type=int, default=7, help='timed rounds')
    parser.add_argument('--threads', type=int, help='torch threads (default: torch\'s)')
    parser.add_argument('--device', default='cuda:0' if torch.cuda.is_available() else 'cpu')
    return parser.parse_args()


def main():
    args = parse_args()
    MMLogger.get_instance('mmengine', log_level='ERROR')
    if args.threads:
        torch.set_num_threads(args.threads)
    cfg = Config.fromfile(args.config)
    init_default_scope(cfg.get('default_scope', 'mmpose'))
    if args.data_root:
        cfg.train_dataloader.dataset.data_root = args.data_root
    batch_size = cfg.train_dataloader.batch_size
    batches = [range(i * batch_size, (i + 1) * batch_size) for i in range(args.iterations)]
    device = torch.device(args.device)
    iterations = {name: TrainIteration(variant, device)
                  for name, variant in variants_of(cfg).items()}
    num_samples, needed = len(iterations['config'].dataset), args.iterations * batch_size
    if num_samples < needed:
        raise SystemExit(f'{args.config}: {num_samples} training samples, {needed} needed for '
                         f'{args.iterations} batches of {batch_size}')
    timings = interleaved_iterations(iterations, batches, args.rounds)
    print(f'{args.config}: {args.rounds} rounds of {args.iterations} batches of {batch_size}, '
          f'{torch.get_num_threads()} threads, {device}')
    print(table(timings, DEFAULTS))


if __name__ == '__main__':
    main()

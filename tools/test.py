"""Evaluate a checkpoint (or dump predictions) with MMEngine's Runner, as MMPose's ``tools/test.py``."""
import argparse
import os
import os.path as osp

from mmengine.config import Config, DictAction
from mmengine.runner import Runner

import refine_plugin  # noqa: F401
from refine_plugin.apis import check_checkpoint_given
from refine_plugin.engine import check_registered_types, prepare_cpu_distributed


def parse_args():
    parser = argparse.ArgumentParser(description='Evaluate a pose model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument(
        'checkpoint', nargs='?', default=None,
        help='checkpoint file path or URL; optional for models that load their own weights '
        '(an EnsemblePoseEstimator config names each member\'s checkpoint)')
    parser.add_argument('--work-dir', help='the dir to save evaluation results')
    parser.add_argument('--out', help='dump the metrics to this JSON file')
    parser.add_argument('--dump', help='dump the raw predictions to this pickle file')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override config settings, e.g. test_dataloader.batch_size=8')
    parser.add_argument(
        '--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    if args.dump is not None and not args.dump.endswith(('.pkl', '.pickle')):
        parser.error(f'--dump {args.dump}: the predictions are dumped as a pickle (.pkl) file')
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def merge_args(cfg, args):
    cfg.launcher = args.launcher
    if args.checkpoint is not None:
        cfg.load_from = args.checkpoint
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(args.config))[0])
    if args.dump is not None:
        dump_metric = dict(type='DumpResults', out_file_path=args.dump)
        evaluators = cfg.test_evaluator
        if isinstance(evaluators, dict):
            evaluators = [evaluators]
        cfg.test_evaluator = [*evaluators, dump_metric]
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    return cfg


def main():
    args = parse_args()
    cfg = merge_args(Config.fromfile(args.config), args)
    try:
        check_checkpoint_given(cfg, cfg.get('load_from'), 'the checkpoint argument')
    except ValueError as error:
        raise SystemExit(f'error: {error}')
    check_registered_types(cfg, args.config)
    runner = Runner.from_cfg(prepare_cpu_distributed(cfg))
    metrics = runner.test()
    if args.out is not None:
        from mmengine.fileio import dump
        dump(metrics, args.out)


if __name__ == '__main__':
    main()

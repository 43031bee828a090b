"""The main job: the whole system on one CPU machine, from generated data to a summary table.

Phases (each prints its progress and is timed):
  1. data      generate the synthetic COCO-format dataset unless it is already there
  2. train     train the CPU pose config with MMEngine's Runner (validating on the way)
  3. evaluate  CocoMetric on the val split with ground-truth boxes; the predictions are saved
  4. posefix   fine-tune the pose model into a PoseFix refiner and refine the predictions
  5. visualise GT beside prediction on a few val images (MMPose's PoseLocalVisualizer)
  6. report    training curves (PNG) and the summary table (Markdown and JSON)

Usage:
    python tools/main_job.py [--work-dir work_dirs/main_job] [--data-root data/synthetic]
"""
import argparse
import io
import json
import os
import os.path as osp
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
POSE_CONFIG = REPO_ROOT / 'configs/cpu/td-hm_2xrefine-tiny_1xb16-18e_synthetic-96x72.py'
POSEFIX_CONFIG = REPO_ROOT / 'configs/posefix/posefix_2xrefine-tiny_1xb32-1e_synthetic-96x72.py'
METRIC_NAMES = ('AP', 'AP .5', 'AP .75', 'AR')


def parse_args():
    from mmengine.config import DictAction
    parser = argparse.ArgumentParser(description='Generate data, train, evaluate, refine and '
                                     'visualise a pose model on this CPU.')
    parser.add_argument('--work-dir', default='work_dirs/main_job')
    parser.add_argument('--data-root', default='data/synthetic',
                        help='generated here when it has no annotations yet')
    parser.add_argument('--num-train', type=int, default=1600, help='images to generate')
    parser.add_argument('--num-val', type=int, default=200, help='images to generate')
    parser.add_argument('--seed', type=int, default=0, help='data and training seed')
    parser.add_argument('--config', default=str(POSE_CONFIG), help='pose model config')
    parser.add_argument('--epochs', type=int, help='override the pose config\'s epochs')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default={},
                        help='override settings of the pose config, as in tools/train.py, e.g. '
                        'model.backbone.spatial_attention=False')
    parser.add_argument('--posefix-config', default=str(POSEFIX_CONFIG))
    parser.add_argument('--posefix-epochs', type=int,
                        help='override the PoseFix config\'s epochs')
    parser.add_argument('--posefix-people', type=int,
                        help='train PoseFix on the first N people of the train split (default: all)')
    parser.add_argument('--skip-posefix', action='store_true')
    parser.add_argument('--workers', type=int,
                        help='data loader workers (default: the configs\')')
    parser.add_argument('--num-vis', type=int, default=6, help='val images to visualise')
    args = parser.parse_args()
    if not args.skip_posefix and not Path(args.posefix_config).is_file():
        parser.error(f'PoseFix config {args.posefix_config} not found: pass --posefix-config '
                     'or --skip-posefix')
    return args


def log(phase, message):
    print(f'[main_job:{phase}] {message}', flush=True)


class PhaseTimer:
    """Wall time of each phase, in order."""

    def __init__(self):
        self.seconds = {}

    def run(self, phase, fn, *args, **kwargs):
        log(phase, 'start')
        start = time.time()
        out = fn(*args, **kwargs)
        self.seconds[phase] = round(time.time() - start, 1)
        log(phase, f'done in {self.seconds[phase]:.1f}s')
        return out


# ---------------------------------------------------------------- 1. data
def ensure_data(args):
    from refine_plugin.datasets.input_checks import load_json
    from refine_plugin.datasets.synthetic import generate_dataset, is_outdated
    root = Path(args.data_root).resolve()
    anns = [root / 'annotations' / f'person_keypoints_{s}.json' for s in ('train', 'val')]
    existing = all(a.is_file() for a in anns)
    if existing and not any(is_outdated(a) for a in anns):
        log('data', f'using the existing dataset in {root}')
    else:
        if existing:
            log('data', f'{root} was made by an older version of the generator')
        log('data', f'generating {args.num_train} train + {args.num_val} val images in {root}')
        generate_dataset(root, args.num_train, args.num_val, seed=args.seed,
                         num_workers=os.cpu_count())
    for ann in anns:
        data = load_json(str(ann), 'annotation file')
        log('data', f'{ann.name}: {len(data["images"])} images, '
                    f'{len(data["annotations"])} people')
    return root


# ---------------------------------------------------------------- 2./4. training
def set_epochs(cfg, epochs):
    """Shorten or lengthen a schedule: epochs, validation interval and every epoch-based LR
    scheduler's end, T_max and milestones scale together."""
    ratio = epochs / cfg.train_cfg.max_epochs
    cfg.train_cfg.max_epochs = epochs
    cfg.train_cfg.val_interval = max(1, min(epochs, round(cfg.train_cfg.val_interval * ratio)))
    for scheduler in cfg.param_scheduler:
        if not scheduler.get('by_epoch', True):
            continue
        for key in ('end', 'T_max'):
            if key in scheduler:
                scheduler[key] = max(1, round(scheduler[key] * ratio))
        if 'milestones' in scheduler:
            scheduler['milestones'] = [max(1, round(m * ratio)) for m in scheduler['milestones']]


def load_config(path, data_root, work_dir, epochs, workers, seed, cfg_options=None):
    """A config pointed at ``data_root`` and ``work_dir``, with the job's loader settings;
    ``cfg_options`` are merged first, so the job's own settings stay in force."""
    from mmengine.config import Config
    cfg = Config.fromfile(path)
    cfg.merge_from_dict(cfg_options or {})
    cfg.work_dir = str(work_dir)
    # MMEngine keeps one visualizer per name in the process: a second run under the same name
    # would log its scalars into the first run's scalars.json
    cfg.visualizer.name = f'visualizer_{Path(work_dir).name}'
    cfg.randomness = dict(seed=seed)
    if epochs is not None:
        set_epochs(cfg, epochs)
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[loader].dataset.data_root = str(data_root)
        if workers is not None:
            cfg[loader].num_workers = workers
            cfg[loader].persistent_workers = workers > 0
    for evaluator in ('val_evaluator', 'test_evaluator'):
        cfg[evaluator].ann_file = str(data_root / 'annotations/person_keypoints_val.json')
    return cfg


def model_name(config, cfg_options):
    """The summary's name of the pose model: its config, then any overridden settings."""
    overrides = ''.join(f' {key}={value}' for key, value in cfg_options.items())
    return osp.splitext(osp.basename(config))[0] + overrides


def train(cfg):
    from mmengine.runner import Runner
    runner = Runner.from_cfg(cfg)
    log('train', f'{cfg.train_cfg.max_epochs} epochs of {len(runner.train_dataloader)} '
                 f'iterations, work dir {cfg.work_dir}')
    runner.train()
    return runner


# ---------------------------------------------------------------- 3. evaluation
def evaluate(runner, work_dir):
    """CocoMetric on the val split (GT boxes); its keypoint results file is kept."""
    prefix = str(Path(work_dir) / 'predictions')
    runner.test_evaluator.metrics[0].outfile_prefix = prefix
    metrics = runner.test()
    scores = {name: float(metrics[f'coco/{name}']) for name in METRIC_NAMES}
    return scores, f'{prefix}.keypoints.json'


def coco_keypoint_stats(ann_file, results_file):
    """AP, AP .5, AP .75 and AR of a COCO keypoint results file (pycocotools), under the names
    CocoMetric gives them."""
    from refine_plugin.apis import coco_ap
    stats = coco_ap(ann_file, results_file)
    return dict(zip(METRIC_NAMES, (stats['AP'], stats['AP50'], stats['AP75'], stats['AR'])))


# ---------------------------------------------------------------- 4. PoseFix
def refine_with_posefix(args, data_root, work_dir, predictions_file, pose_checkpoint):
    """Train PoseFix on the train split, refine the pose model's val predictions with it, and
    return the refined results file. A refiner config initialised from a pretrained model (the
    default one) starts from ``pose_checkpoint``, the pose model just trained."""
    from mmengine.fileio import dump
    from refine_plugin.apis import init_refiner, refine_results
    from refine_plugin.models.pretrained_init import is_pretrained
    cfg = load_config(args.posefix_config, data_root, Path(work_dir) / 'posefix',
                      args.posefix_epochs, args.workers, args.seed)
    if is_pretrained(cfg.model.get('init_cfg')):
        cfg.model.init_cfg.checkpoint = pose_checkpoint
        log('posefix', f'the refiner starts from {pose_checkpoint}')
    if args.posefix_people is not None:
        cfg.train_dataloader.dataset.indices = args.posefix_people
    # the refined predictions are scored below: PoseFix's own validation would only cost time
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    cfg.default_hooks.checkpoint.save_best = None
    runner = train(cfg)
    checkpoint = Path(cfg.work_dir) / 'posefix_last.pth'
    runner.save_checkpoint(cfg.work_dir, checkpoint.name)
    refiner = init_refiner(cfg, str(checkpoint), device=next(runner.model.parameters()).device)
    with open(predictions_file) as f:
        results = json.load(f)
    log('posefix', f'refining {len(results)} predictions')
    refined = refine_results(refiner, results, str(data_root / 'val'),
                             source=predictions_file)
    refined_file = str(Path(work_dir) / 'predictions_posefix.keypoints.json')
    dump(refined, refined_file)  # atomic through the plugin's AtomicLocalBackend
    return refined_file


# ---------------------------------------------------------------- 5. visualisation
def visualise(data_root, dataset_meta, predictions_file, out_dir, num_images, scale=2):
    """GT (left) beside prediction (right) for the first ``num_images`` val images, upscaled
    ``scale`` times so the skeletons of small people stay legible."""
    import cv2
    import numpy as np
    from mmengine.structures import InstanceData
    from mmpose.structures import PoseDataSample
    from mmpose.visualization import PoseLocalVisualizer

    with open(data_root / 'annotations/person_keypoints_val.json') as f:
        gt = json.load(f)
    with open(predictions_file) as f:
        predictions = json.load(f)
    visualizer = PoseLocalVisualizer.get_instance(
        'main_job_visualizer', radius=3, line_width=2, kpt_color=None)
    visualizer.set_dataset_meta(dataset_meta)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for image in gt['images'][:num_images]:
        def keypoints_of(items):
            kpts = np.array([i['keypoints'] for i in items], np.float32).reshape(-1, 17, 3)
            return kpts[..., :2] * scale, kpts[..., 2]

        gt_kpts, gt_flags = keypoints_of([a for a in gt['annotations']
                                          if a['image_id'] == image['id']])
        pred_kpts, pred_scores = keypoints_of([p for p in predictions
                                               if p['image_id'] == image['id']])
        sample = PoseDataSample()
        sample.gt_instances = InstanceData(keypoints=gt_kpts,
                                           keypoints_visible=(gt_flags > 0).astype(np.float32))
        sample.pred_instances = InstanceData(keypoints=pred_kpts, keypoint_scores=pred_scores)
        img = cv2.imread(str(data_root / 'val' / image['file_name']))
        img = cv2.resize(img, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
        out_file = out_dir / image['file_name']
        visualizer.add_datasample(image['file_name'], img[..., ::-1], sample, kpt_thr=0.3,
                                  out_file=str(out_file))
        written.append(str(out_file))
    log('visualise', f'{len(written)} images in {out_dir}')
    return written


# ---------------------------------------------------------------- 6. report
def read_scalars(train_work_dir):
    """The training run's logged scalars (MMEngine's vis_data/scalars.json), newest run."""
    files = sorted(Path(train_work_dir).glob('*/vis_data/scalars.json'))
    if not files:
        raise FileNotFoundError(f'no */vis_data/scalars.json under {train_work_dir}')
    with open(files[-1]) as f:
        return [json.loads(line) for line in f if line.strip()]


def plot_curves(scalars, out_file):
    """Loss per iteration and val AP per epoch, side by side."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    from mmengine.fileio import put
    train_rows = [s for s in scalars if 'loss' in s]
    val_rows = [s for s in scalars if 'coco/AP' in s]
    fig, (ax_loss, ax_ap) = plt.subplots(1, 2, figsize=(10, 3.6))
    ax_loss.plot([s['iter'] for s in train_rows], [s['loss'] for s in train_rows])
    ax_loss.set(xlabel='iteration', ylabel='training loss', title='loss')
    ax_ap.plot([s['step'] for s in val_rows], [s['coco/AP'] for s in val_rows], 'o-')
    ax_ap.set(xlabel='epoch', ylabel='val AP (GT boxes)', title='COCO keypoint AP', ylim=(0, 1))
    for ax in (ax_loss, ax_ap):
        ax.grid(alpha=0.3)
    fig.tight_layout()
    png = io.BytesIO()
    fig.savefig(png, format='png', dpi=100)
    plt.close(fig)
    put(png.getvalue(), str(out_file))  # atomic through the plugin's AtomicLocalBackend


def write_summary(work_dir, rows, seconds, extra):
    """summary.json and summary.md: one row per model, then the time of every phase."""
    from mmengine.fileio import dump, put_text  # atomic through the plugin's AtomicLocalBackend
    summary = dict(results=rows, phase_seconds=seconds,
                   total_seconds=round(sum(seconds.values()), 1), **extra)
    dump(summary, str(work_dir / 'summary.json'), indent=2)
    lines = ['| model | AP | AP50 | AP75 | AR |', '|---|---|---|---|---|']
    for row in rows:
        lines.append(f'| {row["model"]} | ' + ' | '.join(f'{row[m]:.3f}' for m in METRIC_NAMES)
                     + ' |')
    lines += ['', '| phase | seconds |', '|---|---|']
    lines += [f'| {phase} | {s:.1f} |' for phase, s in seconds.items()]
    lines.append(f'| **total** | **{summary["total_seconds"]:.1f}** |')
    put_text('\n'.join(lines) + '\n', str(work_dir / 'summary.md'))
    return summary


def main():
    args = parse_args()
    work_dir = Path(args.work_dir).resolve()
    work_dir.mkdir(parents=True, exist_ok=True)
    import refine_plugin  # noqa: F401  (registers the plugin before any config is built)
    timer = PhaseTimer()

    data_root = timer.run('data', ensure_data, args)
    cfg = load_config(args.config, data_root, work_dir / 'pose_model', args.epochs, args.workers,
                      args.seed, args.cfg_options)
    runner = timer.run('train', train, cfg)
    metrics, predictions = timer.run('evaluate', evaluate, runner, work_dir)
    rows = [dict(model=model_name(args.config, args.cfg_options), **metrics)]

    extra = dict(config=args.config, cfg_options=args.cfg_options, predictions=predictions)
    if args.skip_posefix:
        log('posefix', 'skipped (--skip-posefix)')
    else:
        from refine_plugin.engine import find_resumable_checkpoint
        # the checkpoint of the last epoch, the weights just evaluated
        pose_checkpoint = find_resumable_checkpoint(cfg.work_dir)
        refined = timer.run('posefix', refine_with_posefix, args, data_root, work_dir,
                            predictions, pose_checkpoint)
        before = coco_keypoint_stats(str(data_root / 'annotations/person_keypoints_val.json'),
                                     predictions)
        after = coco_keypoint_stats(str(data_root / 'annotations/person_keypoints_val.json'),
                                    refined)
        # both files scored by pycocotools, a like-for-like pair (CocoMetric scored the first)
        rows.append(dict(model=rows[0]['model'] + ' (pycocotools)', **before))
        rows.append(dict(model=rows[0]['model'] + ' + PoseFix', **after))
        extra['refined_predictions'] = refined

    extra['visualisations'] = timer.run('visualise', visualise, data_root,
                                        runner.test_dataloader.dataset.metainfo, predictions,
                                        work_dir / 'vis', args.num_vis)
    plot_curves(read_scalars(cfg.work_dir), work_dir / 'curves.png')
    extra['curves'] = str(work_dir / 'curves.png')
    summary = write_summary(work_dir, rows, timer.seconds, extra)
    print((work_dir / 'summary.md').read_text())
    log('report', f'summary.md, summary.json and curves.png in {work_dir} '
                  f'(total {summary["total_seconds"]:.0f}s)')


if __name__ == '__main__':
    main()

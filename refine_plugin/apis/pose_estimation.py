"""Run a top-down pose model or ensemble over an image set and write its COCO keypoint results."""
import os.path as osp
import uuid
from typing import Optional

from mmengine.config import Config
from mmengine.runner import Runner

# CocoMetric's arguments that decide which poses a results file keeps and with what score
RESCORING_KEYS = ('use_area', 'iou_type', 'score_mode', 'keypoint_score_thr', 'nms_mode',
                  'nms_thr')


def estimate_poses(config: str, checkpoint: Optional[str], ann_file: str, img_dir: str,
                   out_dir: str, bbox_file: Optional[str] = None, bbox_score_thr: float = 0.0,
                   submission_name: str = 'refineplugin', split: str = 'val2017',
                   cfg_options: Optional[dict] = None) -> str:
    """Write the model's results on ``ann_file``'s images and return the results file.

    Persons come from the ground-truth boxes of ``ann_file``, or from ``bbox_file`` (COCO
    detection results, boxes below ``bbox_score_thr`` dropped), as in MMPose's COCO configs; with
    ``bbox_file`` the ``ann_file`` may be an image list without annotations (test-dev). The model
    runs through MMEngine's Runner on its config's test pipeline and on the best device there is.
    ``checkpoint`` may be ``None`` for an ensemble, whose members load their own.
    ``cfg_options`` override config settings, as ``--cfg-options`` of ``tools/test.py``.
    """
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    dataset = cfg.test_dataloader.dataset
    # bbox_file None also replaces a config's default detections: ground-truth boxes
    dataset.update(data_root='', ann_file=osp.abspath(ann_file),
                   bbox_file=osp.abspath(bbox_file) if bbox_file else None,
                   data_prefix=dict(img=osp.abspath(img_dir)), test_mode=True)
    if bbox_file:
        dataset.filter_cfg = dict(bbox_score_thr=bbox_score_thr)
    cfg.test_evaluator = dict(type='CocoSubmissionMetric', ann_file=osp.abspath(ann_file),
                              outfile_dir=osp.abspath(out_dir), submission_name=submission_name,
                              split=split, **rescoring_settings(cfg.test_evaluator))
    cfg.work_dir = osp.abspath(out_dir)
    cfg.load_from = checkpoint
    # MMEngine names a Runner's logger and visualizer `<name>_<second>` and hands a second Runner
    # of that name the first one's instances, whose log file is in the first out_dir: two calls
    # on one config within a second (an evaluation loop) must not share them
    name = cfg.get('experiment_name') or osp.splitext(osp.basename(config))[0]
    cfg.experiment_name = f'{name}_{uuid.uuid4().hex[:8]}'
    runner = Runner.from_cfg(cfg)
    runner.test()
    return runner.test_evaluator.metrics[0].results_file


def rescoring_settings(evaluator_cfg) -> dict:
    """The rescoring and NMS settings of a config's ``CocoMetric`` test evaluator.

    The results file must hold what ``tools/test.py`` scores: e.g. the CPU configs keep one pose
    per ground-truth box (``nms_mode='none'``), where CocoMetric's default OKS NMS would drop one of
    two overlapping people whose predicted poses agree.
    """
    evaluators = evaluator_cfg if isinstance(evaluator_cfg, (list, tuple)) else [evaluator_cfg]
    coco_metric = next((e for e in evaluators
                        if e.get('type') in ('CocoMetric', 'CocoSubmissionMetric')), {})
    return {key: coco_metric[key] for key in RESCORING_KEYS if key in coco_metric}

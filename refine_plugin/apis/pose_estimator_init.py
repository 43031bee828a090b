"""Build a top-down pose model or an ensemble for inference on images."""
from typing import Optional, Union

import torch
from mmengine.config import Config

from mmpose.apis import init_model


def check_checkpoint_given(config: Union[str, Config], checkpoint: Optional[str],
                           option: str) -> None:
    """Raise ``ValueError`` naming ``option`` when a model built from ``config`` needs the
    missing ``checkpoint``.

    Why: MMPose's ``init_model`` (and a Runner without ``load_from``) builds a model with random
    weights without a word, which then predicts plausible-looking nonsense. Only an ensemble runs
    without one: its members name their own checkpoints.
    """
    if checkpoint is not None:
        return
    if not isinstance(config, Config):
        config = Config.fromfile(config)
    if config.model.type != 'EnsemblePoseEstimator':
        raise ValueError(f'{option} is required: {config.filename} builds a {config.model.type}, '
                         'whose weights would otherwise be random')


def init_pose_estimator(config: Union[str, Config], checkpoint: Optional[str] = None,
                        device: str = 'cpu') -> torch.nn.Module:
    """MMPose's ``init_model``, which also takes an ensemble config (its members hold weights)."""
    if not isinstance(config, Config):
        config = Config.fromfile(config)
    is_ensemble = config.model.type == 'EnsemblePoseEstimator'
    # init_model clears model.backbone.init_cfg unless given cfg_options: an ensemble has no
    # backbone of its own (its members' init_cfg are cleared when they are built)
    model = init_model(config, checkpoint, device=device, cfg_options={} if is_ensemble else None)
    if is_ensemble:
        # init_model falls back to COCO's keypoints; an ensemble predicts its members' ones
        model.dataset_meta = model.members[0].dataset_meta
    return model

"""Build a top-down pose model or an ensemble for inference on images."""
from typing import Optional, Union

import torch
from mmengine.config import Config

from mmpose.apis import init_model


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

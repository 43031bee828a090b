"""PoseFix (Moon et al., CVPR 2019): refine the pose of any estimator from the image and that pose.

The network sees the image crop and, as K more input channels, the input pose rendered as Gaussian
heatmaps (peak 1, zero for missing joints); it predicts the refined pose by soft-argmax (MMPose's
``DSNTHead``: three 4x4 stride-2 deconvolutions, a 1x1 conv to K maps, soft-argmax, coordinate and
heatmap losses).
"""
from typing import Optional

import numpy as np
import torch
from mmengine.logging import MMLogger
from mmengine.runner import CheckpointLoader
from torch import Tensor, nn

from mmpose.models.pose_estimators import TopdownPoseEstimator
from mmpose.registry import MODELS
from mmpose.utils.typing import ConfigType, OptConfigType, OptMultiConfig, SampleList

from ..pretrained_init import is_pretrained
from .pose_heatmap_rendering import render_pose_heatmaps


@MODELS.register_module()
class PoseFixRefiner(TopdownPoseEstimator):
    """Top-down estimator whose input is the image plus the rendered input pose.

    Each data sample carries ``input_pose`` (1, K, 2) in crop pixels and ``input_pose_visible``
    (1, K) in its metainfo (``SynthesizePoseErrors``/``WarpInputPose`` and ``PackPoseInputs``'s
    ``meta_keys``). The backbone's stem convolution must take ``3 + K`` channels (e.g. MMPose's
    ``ResNet(in_channels=20)`` for COCO).

    When the backbone's ``init_cfg`` is ``Pretrained`` (e.g. ``torchvision://resnet50``), MMEngine
    loads every weight but the stem's, whose shape differs; :meth:`init_weights` then copies the
    checkpoint's stem into the 3 image channels and zeroes the K pose channels, so training starts
    from the ImageNet network's exact features and learns how to use the pose. The refiner's own
    ``init_cfg`` may instead be ``Pretrained`` on a trained top-down pose model of the same backbone
    and head (PoseFix's recipe where no ImageNet weights are at hand, as in the main job): the
    refiner then starts as that pose model, exactly, and learns to use the pose.

    Args:
        input_pose_sigma: Gaussian sigma (> 0) in input pixels of the pose channels (PoseFix: 7
            at 256x192, 9 at 384x288).
        Others: as :class:`~mmpose.models.TopdownPoseEstimator`.
    """

    def __init__(self,
                 backbone: ConfigType,
                 head: ConfigType,
                 input_pose_sigma: float,
                 train_cfg: OptConfigType = None,
                 test_cfg: OptConfigType = None,
                 data_preprocessor: OptConfigType = None,
                 init_cfg: OptMultiConfig = None,
                 metainfo: Optional[dict] = None):
        if not input_pose_sigma > 0:  # 0 renders NaN maps; a negative one acts as its absolute
            raise ValueError(f'PoseFixRefiner: input_pose_sigma must be > 0 pixels, got '
                             f'{input_pose_sigma!r}')
        super().__init__(backbone=backbone, head=head, train_cfg=train_cfg,
                         test_cfg=test_cfg, data_preprocessor=data_preprocessor,
                         init_cfg=init_cfg, metainfo=metainfo)
        self.input_pose_sigma = input_pose_sigma
        # regression heads (DSNTHead) name it num_joints, heatmap heads (MSPNHead) out_channels
        self.num_joints = getattr(self.head, 'num_joints', None) or self.head.out_channels
        self.stem_name = self._find_stem_name()

    def _find_stem_name(self) -> str:
        for name, module in self.backbone.named_modules():
            if isinstance(module, nn.Conv2d):
                if module.in_channels != 3 + self.num_joints:
                    raise ValueError(
                        f'PoseFixRefiner: the first conv of the backbone ({name}) takes '
                        f'{module.in_channels} channels; it needs 3 image + {self.num_joints} '
                        'pose channels (set the backbone\'s in_channels)')
                return name
        raise ValueError('PoseFixRefiner: the backbone has no Conv2d stem')

    def init_weights(self):
        super().init_weights()
        if is_pretrained(self.init_cfg):
            # a whole pose model's checkpoint: the stem sits under the backbone's key
            self._load_pretrained_stem(self.init_cfg['checkpoint'], 'backbone.')
        elif is_pretrained(self.backbone.init_cfg):
            self._load_pretrained_stem(self.backbone.init_cfg['checkpoint'],
                                       self.backbone.init_cfg.get('prefix'))

    def _load_pretrained_stem(self, checkpoint: str, prefix: Optional[str]):
        """Put a 3-channel checkpoint's stem weights into the image channels of the stem."""
        state = CheckpointLoader.load_checkpoint(checkpoint, map_location='cpu')
        state = state.get('state_dict', state)
        key = (prefix or '') + self.stem_name + '.weight'
        if key not in state:
            raise KeyError(f'PoseFixRefiner: {checkpoint} has no stem weight {key!r}')
        pretrained = state[key]
        stem = self.backbone.get_submodule(self.stem_name)
        if pretrained.shape[1] != 3 or pretrained.shape[0] != stem.out_channels:
            raise ValueError(f'PoseFixRefiner: {key} of {checkpoint} has shape '
                             f'{tuple(pretrained.shape)}, expected ({stem.out_channels}, 3, ...)')
        with torch.no_grad():
            stem.weight.zero_()
            stem.weight[:, :3] = pretrained.to(stem.weight)
        MMLogger.get_current_instance().info(
            f'PoseFixRefiner: loaded the image channels of {self.stem_name} from {checkpoint}; '
            f'its {self.num_joints} pose channels start at zero')

    def with_input_pose(self, inputs: Tensor, data_samples: SampleList) -> Tensor:
        """Concatenate the rendered input poses of ``data_samples`` to the images ``inputs``."""
        pose = np.stack([d.metainfo['input_pose'][0] for d in data_samples])
        visible = np.stack([d.metainfo['input_pose_visible'][0] for d in data_samples])
        heatmaps = render_pose_heatmaps(
            torch.as_tensor(pose, device=inputs.device),
            torch.as_tensor(visible, device=inputs.device),
            size=(inputs.shape[-1], inputs.shape[-2]), sigma=self.input_pose_sigma)
        return torch.cat([inputs, heatmaps.to(inputs.dtype)], dim=1)

    @staticmethod
    def flip_input(inputs: Tensor, flip_indices) -> Tensor:
        """Mirror image and pose channels; a left joint's map becomes its right counterpart's."""
        image, heatmaps = inputs[:, :3], inputs[:, 3:]
        return torch.cat([image.flip(-1), heatmaps.flip(-1)[:, list(flip_indices)]], dim=1)

    def loss(self, inputs: Tensor, data_samples: SampleList) -> dict:
        return super().loss(self.with_input_pose(inputs, data_samples), data_samples)

    def predict(self, inputs: Tensor, data_samples: SampleList) -> SampleList:
        # TopdownPoseEstimator's flip test mirrors all channels but cannot swap the left/right
        # pose channels, so the flipped input is made here.
        inputs = self.with_input_pose(inputs, data_samples)
        feats = self.extract_feat(inputs)
        if self.test_cfg.get('flip_test', False):
            flip_indices = data_samples[0].metainfo['flip_indices']
            feats = [feats, self.extract_feat(self.flip_input(inputs, flip_indices))]
        preds = self.head.predict(feats, data_samples, test_cfg=self.test_cfg)
        pred_instances, pred_fields = preds if isinstance(preds, tuple) else (preds, None)
        return self.add_pred_to_datasample(pred_instances, pred_fields, data_samples)

    def _forward(self, inputs: Tensor, data_samples: Optional[SampleList] = None):
        """Network outputs; without data samples ``inputs`` must already hold the 3+K channels."""
        if data_samples is not None:
            inputs = self.with_input_pose(inputs, data_samples)
        return super()._forward(inputs)
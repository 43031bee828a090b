"""An ensemble of top-down pose estimators that averages their heatmaps before decoding.

Members are ordinary MMPose top-down models built from their own configs and checkpoints; they may
differ in backbone, head and input size. The ensemble's test pipeline crops each person once, at the
ensemble's input size, in the same way as any top-down model. Because MMPose's crops and codecs map
a pixel ``x`` of a ``w``-wide crop or heatmap to the image frame through ``x / w`` alone, a crop or
heatmap of another size covering the same box is the same image region sampled on another grid:
each member gets the crop resampled to its input size, and its flip-tested heatmaps are resampled to
the ensemble's heatmap size before the weighted average is decoded by the ensemble's codec.
"""
from typing import Optional, Sequence, Union

import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.model import BaseModel
from mmengine.structures import InstanceData, PixelData
from torch import Tensor, nn

from mmpose.models.pose_estimators import TopdownPoseEstimator
from mmpose.registry import KEYPOINT_CODECS, MODELS

_NORMALISATION_KEYS = ('mean', 'std', 'bgr_to_rgb')


def resample_in_frame(maps: Tensor, size: Sequence[int]) -> Tensor:
    """Resample ``(N, C, h, w)`` maps to ``size = (H, W)`` keeping MMPose's crop frame.

    Output pixel ``j`` reads input position ``j * h / H`` (not the half-pixel-centred position of
    ``F.interpolate``), which is how MMPose's affine crop and heatmap codecs place pixels.
    """
    src_h, src_w = maps.shape[-2:]
    dst_h, dst_w = size
    if (src_h, src_w) == (dst_h, dst_w):
        return maps
    # grid_sample with align_corners=True puts -1 and 1 on the first and last pixel centres
    ys = torch.arange(dst_h, dtype=maps.dtype, device=maps.device) * (src_h / dst_h)
    xs = torch.arange(dst_w, dtype=maps.dtype, device=maps.device) * (src_w / dst_w)
    ys = ys * 2 / max(src_h - 1, 1) - 1
    xs = xs * 2 / max(src_w - 1, 1) - 1
    grid_y, grid_x = torch.meshgrid(ys, xs, indexing='ij')
    grid = torch.stack((grid_x, grid_y), dim=-1).expand(maps.shape[0], -1, -1, -1)
    return F.grid_sample(maps, grid, mode='bilinear', padding_mode='border', align_corners=True)


def _as_list(value):
    return list(value) if isinstance(value, (list, tuple)) else value


def _build_member(config: Union[str, dict, Config], checkpoint: Optional[str]) -> nn.Module:
    # imported here: mmpose.apis imports the model registry that this module registers into
    from mmpose.apis import init_model
    if isinstance(config, dict) and not isinstance(config, Config):
        config = Config(config)
    # members start on the CPU; the runner moves the whole ensemble to its device
    return init_model(config, checkpoint, device='cpu')


@MODELS.register_module()
class EnsemblePoseEstimator(BaseModel):
    """Weighted average of top-down members' flip-tested heatmaps, decoded once.

    Args:
        members (list[dict]): one dict per member with ``config`` (file path, ``mmpose::`` path
            or config dict of a top-down model), ``checkpoint`` (path or URL; ``None`` keeps random
            weights) and optionally ``weight`` (default 1). Each member flip-tests as its own
            ``test_cfg`` says.
        codec (dict): the codec decoding the averaged heatmaps; its ``input_size`` must be the
            input size of the ensemble's test pipeline and its ``heatmap_size`` is the common size.
        data_preprocessor (dict): the normalisation of the ensemble's inputs; every member must
            have been trained with the same one.
        test_cfg (dict): ``output_heatmaps=True`` stores the averaged heatmaps in ``pred_fields``.
    """

    def __init__(self,
                 members: Sequence[dict],
                 codec: dict,
                 data_preprocessor: Optional[dict] = None,
                 test_cfg: Optional[dict] = None,
                 train_cfg: Optional[dict] = None,
                 init_cfg: Optional[dict] = None):
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        # MMPose's init_model sets every model's train_cfg (to None); an ensemble has no training
        if train_cfg:
            raise ValueError('EnsemblePoseEstimator is for inference only: train its members')
        if not members:
            raise ValueError('EnsemblePoseEstimator needs at least one member')
        self.codec = KEYPOINT_CODECS.build(codec)
        self.test_cfg = dict(test_cfg or {})
        self.members = nn.ModuleList()
        weights = []
        for index, spec in enumerate(members):
            if 'config' not in spec:
                raise ValueError(f'ensemble member {index} has no "config": {spec}')
            member = _build_member(spec['config'], spec.get('checkpoint'))
            self._check_compatible(member, spec, index, data_preprocessor or {})
            if self.members and member.head.out_channels != self.members[0].head.out_channels:
                raise ValueError(
                    f'ensemble member {index} predicts {member.head.out_channels} keypoints, '
                    f'member 0 {self.members[0].head.out_channels}: their heatmaps cannot be '
                    'averaged')
            self.members.append(member)
            weights.append(float(spec.get('weight', 1.0)))
        if min(weights) < 0 or sum(weights) <= 0:
            raise ValueError(f'ensemble member weights must be >= 0 with a positive sum: {weights}')
        self.register_buffer('weights', torch.tensor(weights) / sum(weights), persistent=False)

    def _check_compatible(self, member: nn.Module, spec: dict, index: int,
                          data_preprocessor: dict) -> None:
        source = spec['config'] if isinstance(spec['config'], str) else 'config dict'
        name = f'ensemble member {index} ({source})'
        if not hasattr(member, 'head') or not hasattr(member.head, 'decoder'):
            raise ValueError(f'{name} is not a top-down heatmap model with a head codec')
        member_w, member_h = member.head.decoder.input_size
        ensemble_w, ensemble_h = self.codec.input_size
        # a different aspect ratio would crop a different image region around the same box
        if member_w * ensemble_h != member_h * ensemble_w:
            raise ValueError(f'{name} has input size {member_w}x{member_h}, whose aspect ratio '
                             f'differs from the ensemble input size {ensemble_w}x{ensemble_h}')
        member_norm = member.cfg.model.get('data_preprocessor', {})
        for key in _NORMALISATION_KEYS:
            if key not in data_preprocessor:
                continue
            ours, theirs = _as_list(data_preprocessor[key]), _as_list(member_norm.get(key))
            if ours != theirs:
                raise ValueError(f'{name} normalises inputs with {key}={theirs}, '
                                 f'the ensemble with {key}={ours}')

    def forward(self, inputs: Tensor, data_samples=None, mode: str = 'tensor'):
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        if mode == 'tensor':
            return self.average_heatmaps(inputs, data_samples)
        raise ValueError(f'EnsemblePoseEstimator is for inference only: mode "{mode}" is '
                         'not supported (train its members instead)')

    def average_heatmaps(self, inputs: Tensor, data_samples) -> Tensor:
        """Members' flip-tested heatmaps in the common frame, averaged: ``(N, K, H, W)``."""
        heatmap_w, heatmap_h = self.codec.heatmap_size
        input_w, input_h = self.codec.input_size
        # predict maps the codec's decoded positions to the image through the crop's size
        if tuple(inputs.shape[-2:]) != (input_h, input_w):
            raise ValueError(
                f'the ensemble codec has input_size {input_w}x{input_h}, but its test pipeline '
                f'crops {inputs.shape[-1]}x{inputs.shape[-2]}: give TopdownAffine the codec\'s '
                'input_size')
        if data_samples is None and any(m.test_cfg.get('flip_test', False) for m in self.members):
            raise ValueError('the ensemble members flip-test, which reads flip_indices from the '
                             'data samples: pass them with the inputs')
        average = 0
        for weight, member in zip(self.weights, self.members):
            member_w, member_h = member.head.decoder.input_size
            member_inputs = resample_in_frame(inputs, (member_h, member_w))
            # the head's own predict applies the member's flip test (flip_mode, shift_heatmap)
            test_cfg = dict(member.test_cfg, output_heatmaps=True)
            feats = member.extract_feat(member_inputs)
            if test_cfg.get('flip_test', False):
                feats = [feats, member.extract_feat(member_inputs.flip(-1))]
            _, fields = member.head.predict(feats, data_samples, test_cfg=test_cfg)
            heatmaps = torch.stack([field.heatmaps for field in fields])
            average = average + weight * resample_in_frame(heatmaps, (heatmap_h, heatmap_w))
        return average

    @torch.no_grad()
    def predict(self, inputs: Tensor, data_samples):
        heatmaps = self.average_heatmaps(inputs, data_samples)
        pred_instances = []
        for heatmap in heatmaps:
            keypoints, scores = self.codec.decode(heatmap.cpu().numpy())
            pred_instances.append(InstanceData(keypoints=keypoints, keypoint_scores=scores))
        pred_fields = ([PixelData(heatmaps=heatmap) for heatmap in heatmaps]
                       if self.test_cfg.get('output_heatmaps', False) else None)
        # MMPose's own conversion to the image frame (and output_keypoint_indices), so the
        # ensemble's predictions are laid out as any top-down model's
        return TopdownPoseEstimator.add_pred_to_datasample(self, pred_instances, pred_fields,
                                                           data_samples)

"""MultiStageRefineNet: the MSPN multi-stage design with a choice of encoder block.

Module names and the decoder are MMPose's ``MSPN`` ones on purpose: with ``block='Bottleneck'``
this network *is* MMPose's MSPN (same parameters, ``MSPN.state_dict()`` loads with
``strict=True``), so MMPose's trained MSPN checkpoints load into it unchanged. It differs from
``MSPN`` where MSPN is not configurable: the encoder block, the width (``base_channels``, which
MSPN hard-codes to 64 in its stem and cross-stage conv) and the norm layer of every block.
"""
import copy

import torch.nn as nn
from mmcv.cnn import ConvModule
from mmengine.logging import MMLogger
from mmengine.model import BaseModule
from mmengine.runner import CheckpointLoader, load_state_dict
from mmpose.models.backbones.base_backbone import BaseBackbone
from mmpose.models.backbones.mspn import ResNetTop, UpsampleUnit
from mmpose.models.backbones.resnet import Bottleneck
from mmpose.registry import MODELS

from ..pretrained_init import is_pretrained
from .refine_bottleneck import RefineBottleneck, reset_spatial_gates
from .res2net_conversion import to_multi_stage_encoder_layout

ENCODER_BLOCKS = {'Bottleneck': Bottleneck, 'RefineBottleneck': RefineBottleneck}
EXPANSION = 4


class StageEncoder(BaseModule):
    """The 4-level (``num_units``) encoder of one stage; level ``i`` has ``base * 2**i`` planes.

    Levels after the first stage also add the previous stage's two skip features (cross-stage
    aggregation). Returns the level features from the coarsest to the finest.
    """

    def __init__(self, block, num_blocks, base_channels, norm_cfg, block_options):
        super().__init__()
        in_channels = base_channels
        for level, blocks in enumerate(num_blocks):
            out_channels = base_channels * 2**level * EXPANSION
            stride = 1 if level == 0 else 2
            layer = [block(in_channels, out_channels, stride=stride, norm_cfg=norm_cfg,
                           downsample=ConvModule(in_channels, out_channels, kernel_size=1,
                                                 stride=stride, norm_cfg=norm_cfg, act_cfg=None),
                           **block_options)]
            layer += [block(out_channels, out_channels, norm_cfg=norm_cfg, **block_options)
                      for _ in range(1, blocks)]
            self.add_module(f'layer{level + 1}', nn.Sequential(*layer))
            in_channels = out_channels
        self.num_levels = len(num_blocks)

    def forward(self, x, skips1=None, skips2=None):
        feats = []
        for level in range(self.num_levels):
            x = getattr(self, f'layer{level + 1}')(x)
            if skips1 is not None:
                x = x + skips1[level] + skips2[level]
            feats.append(x)
        return feats[::-1]


class StageDecoder(BaseModule):
    """The top-down decoder of one stage, made of MMPose's ``UpsampleUnit`` s.

    ``feed_next`` makes the skips and the cross-stage feature for the next stage.
    """

    def __init__(self, num_units, unit_channels, base_channels, feed_next, norm_cfg):
        super().__init__()
        self.num_units = num_units
        for unit in range(num_units):
            level = num_units - 1 - unit
            self.add_module(
                f'up{unit + 1}',
                UpsampleUnit(unit, num_units, base_channels * 2**level * EXPANSION,
                             unit_channels, gen_skip=feed_next, gen_cross_conv=feed_next,
                             norm_cfg=norm_cfg, out_channels=base_channels))

    def forward(self, feats):
        outs, skips1, skips2 = [], [], []
        up = cross = None
        for unit in range(self.num_units):
            up, skip1, skip2, unit_cross = getattr(self, f'up{unit + 1}')(feats[unit], up)
            outs.append(up)
            skips1.append(skip1)
            skips2.append(skip2)
            cross = unit_cross if unit_cross is not None else cross
        return outs, skips1[::-1], skips2[::-1], cross


class RefineStage(BaseModule):
    """One encoder-decoder stage. The attribute names are MSPN's (``downsample``/``upsample``)."""

    def __init__(self, block, num_blocks, unit_channels, base_channels, last, norm_cfg,
                 block_options):
        super().__init__()
        self.downsample = StageEncoder(block, num_blocks, base_channels, norm_cfg, block_options)
        self.upsample = StageDecoder(len(num_blocks), unit_channels, base_channels,
                                     feed_next=not last, norm_cfg=norm_cfg)

    def forward(self, x, skips1, skips2):
        feats = self.downsample(x, skips1, skips2)
        return self.upsample(feats)


@MODELS.register_module()
class MultiStageRefineNet(BaseBackbone):
    """Multi-stage encoder-decoder network (MSPN design) with a selectable encoder block.

    Args:
        block (str): ``'RefineBottleneck'`` (Refine-50 levels) or ``'Bottleneck'`` (ResNet levels;
            with the defaults below this is MMPose's 4xMSPN-50). Default: ``'RefineBottleneck'``.
        num_stages (int): Number of stages. Default: 4.
        num_units (int): Encoder levels = decoder units per stage. Default: 4.
        num_blocks (Sequence[int]): Blocks per encoder level. Default: ``(3, 4, 6, 3)`` (the "50").
        unit_channels (int): Channels of every decoder unit (the head's input). Default: 256.
        base_channels (int): Stem channels and planes of the first encoder level. Default: 64.
        in_channels (int): Input channels of the stem: 3 for images, ``3 + K`` for a PoseFix
            refiner that also sees the input pose (``PoseFixRefiner``). Default: 3.
        scales, base_width, spatial_attention, channel_attention: ``RefineBottleneck`` options,
            used only with ``block='RefineBottleneck'``. Defaults: 4, 26, True, True.
        norm_cfg (dict): Norm layer config. Default: ``dict(type='BN')``.
        init_cfg (dict | list[dict]): ``dict(type='Pretrained', checkpoint=...)`` loads an
            ImageNet ResNet (torchvision layout, e.g. ``'torchvision://resnet50'``) or timm's
            ``res2net50_26w_4s`` into the stem and every stage's encoder, as MMPose's MSPN does.

    Returns ``num_stages`` lists of ``num_units`` features of ``unit_channels`` channels, from the
    coarsest to the finest (stride 32 to 4), the input of ``MultiStageRefineHead``.

    Example:
        >>> import torch
        >>> net = MultiStageRefineNet(block='RefineBottleneck', num_stages=2, num_units=4,
        ...                           num_blocks=[2, 2, 2, 2], unit_channels=64, base_channels=16)
        >>> feats = net(torch.rand(1, 3, 128, 96))
        >>> [tuple(f.shape) for f in feats[-1]]
        [(1, 64, 4, 3), (1, 64, 8, 6), (1, 64, 16, 12), (1, 64, 32, 24)]
    """

    def __init__(self,
                 block='RefineBottleneck',
                 num_stages=4,
                 num_units=4,
                 num_blocks=(3, 4, 6, 3),
                 unit_channels=256,
                 base_channels=64,
                 in_channels=3,
                 scales=4,
                 base_width=26,
                 spatial_attention=True,
                 channel_attention=True,
                 norm_cfg=dict(type='BN'),
                 init_cfg=[
                     dict(type='Kaiming', layer=['Conv2d']),
                     dict(type='Constant', val=1, layer=['_BatchNorm', 'GroupNorm']),
                     dict(type='Normal', std=0.01, layer=['Linear']),
                 ]):
        super().__init__(init_cfg=init_cfg)
        if block not in ENCODER_BLOCKS:
            raise ValueError(f'block must be one of {sorted(ENCODER_BLOCKS)}, got {block!r}')
        if num_stages < 1 or num_units < 2:
            raise ValueError(f'need num_stages >= 1 and num_units >= 2, got {num_stages} and '
                             f'{num_units}')
        if len(num_blocks) != num_units:
            raise ValueError(f'num_blocks {list(num_blocks)} must have num_units={num_units} '
                             'entries')
        if min(num_blocks) < 1:
            raise ValueError(f'num_blocks entries must be >= 1, got {list(num_blocks)}')
        for name, channels in dict(unit_channels=unit_channels, base_channels=base_channels,
                                   in_channels=in_channels).items():
            if channels < 1:
                raise ValueError(f'{name} must be > 0, got {channels}')
        norm_cfg = copy.deepcopy(norm_cfg)
        block_options = dict(scales=scales, base_width=base_width,
                             spatial_attention=spatial_attention,
                             channel_attention=channel_attention
                             ) if block == 'RefineBottleneck' else {}
        self.num_stages = num_stages
        self.num_units = num_units
        self.top = ResNetTop(norm_cfg=norm_cfg, channels=base_channels)
        if in_channels != 3:
            # MMPose's ResNetTop hard-codes 3 input channels; same name, so checkpoints still map
            stem = self.top.top[0]
            stem.conv = nn.Conv2d(in_channels, stem.out_channels, stem.conv.kernel_size,
                                  stem.conv.stride, stem.conv.padding, bias=False)
            stem.in_channels = in_channels
        self.multi_stage_mspn = nn.ModuleList(
            RefineStage(ENCODER_BLOCKS[block], list(num_blocks), unit_channels, base_channels,
                        last=stage == num_stages - 1, norm_cfg=norm_cfg,
                        block_options=block_options) for stage in range(num_stages))

    def forward(self, x):
        x = self.top(x)
        skips1 = skips2 = None
        stage_outs = []
        for stage in self.multi_stage_mspn:
            outs, skips1, skips2, x = stage(x, skips1, skips2)
            stage_outs.append(outs)
        return stage_outs

    def init_weights(self):
        if not is_pretrained(self.init_cfg):
            super().init_weights()
            reset_spatial_gates(self)
            return
        # like MMPose's MSPN: the ImageNet classifier initialises the stem and every stage's
        # encoder; the decoders keep PyTorch's default init
        logger = MMLogger.get_current_instance()
        checkpoint = CheckpointLoader.load_checkpoint(self.init_cfg['checkpoint'],
                                                    map_location='cpu')
        stem, encoder = to_multi_stage_encoder_layout(checkpoint.get('state_dict', checkpoint))
        load_state_dict(self.top.top, stem, strict=False, logger=logger)
        for stage in self.multi_stage_mspn:
            load_state_dict(stage.downsample, encoder, strict=False, logger=logger)

"""RefineResNet: a standalone Refine-50/101 backbone (MMPose's ResNet with RefineBottleneck)."""
from mmengine.logging import MMLogger
from mmengine.model import constant_init
from mmengine.runner import CheckpointLoader, load_state_dict
from mmpose.models.backbones.resnet import ResLayer, ResNet
from mmpose.registry import MODELS

from ..pretrained_init import is_pretrained
from .refine_bottleneck import RefineBottleneck, reset_spatial_gates
from .res2net_conversion import convert_timm_res2net, is_res2net_state_dict


@MODELS.register_module()
class RefineResNet(ResNet):
    """ResNet whose bottlenecks are ``RefineBottleneck`` s; everything else is MMPose's ``ResNet``
    (``out_indices``, ``frozen_stages``, ``norm_eval``, ``deep_stem``, ...), so it also fits
    MMPose's ``HeatmapHead`` (SimpleBaseline style).

    Args:
        depth (int): 50 or 101.
        scales (int): Groups of the multi-scale split. Default: 4.
        base_width (int): Group width per 64 planes. Default: 26 (Res2Net-50 26w-4s's widths).
        spatial_attention (bool): Spatial gate in every block. Default: True.
        channel_attention (bool): Squeeze-excitation in every block. Default: True.
        **kwargs: MMPose ``ResNet`` arguments. ``init_cfg=dict(type='Pretrained', checkpoint=...)``
            accepts a torchvision ResNet (with ``scales=1, base_width=64``) or timm's
            ``res2net50_26w_4s`` / ``res2net101_26w_4s`` checkpoint.

    Example:
        >>> import torch
        >>> net = RefineResNet(depth=50, out_indices=(0, 1, 2, 3))
        >>> _ = net.eval()
        >>> [tuple(f.shape) for f in net(torch.rand(1, 3, 64, 64))]
        [(1, 256, 16, 16), (1, 512, 8, 8), (1, 1024, 4, 4), (1, 2048, 2, 2)]
    """

    arch_settings = {
        50: (RefineBottleneck, (3, 4, 6, 3)),
        101: (RefineBottleneck, (3, 4, 23, 3)),
    }

    def __init__(self, depth, scales=4, base_width=26, spatial_attention=True,
                 channel_attention=True, **kwargs):
        if depth not in self.arch_settings:
            raise KeyError(f'invalid depth {depth} for RefineResNet (50 or 101)')
        self.block_options = dict(scales=scales, base_width=base_width,
                                  spatial_attention=spatial_attention,
                                  channel_attention=channel_attention)
        super().__init__(depth, **kwargs)

    def make_res_layer(self, **kwargs):
        return ResLayer(**kwargs, **self.block_options)

    def init_weights(self):
        if not is_pretrained(self.init_cfg):
            super().init_weights()
            # ResNet.init_weights zero-inits the last norm of its own Bottleneck class only
            if self.zero_init_residual:
                for module in self.modules():
                    if isinstance(module, RefineBottleneck):
                        constant_init(module.norm3, 0)
            reset_spatial_gates(self)
            return
        checkpoint = CheckpointLoader.load_checkpoint(self.init_cfg['checkpoint'],
                                                    map_location='cpu')
        state_dict = checkpoint.get('state_dict', checkpoint)
        if is_res2net_state_dict(state_dict):
            state_dict = convert_timm_res2net(state_dict)
        load_state_dict(self, state_dict, strict=False, logger=MMLogger.get_current_instance())

"""RefineBottleneck: the building block of Refine-50 (our interpretation of the unpublished design).

A ResNet bottleneck whose 3x3 conv is replaced by a Res2Net-style hierarchical multi-scale split,
followed by spatial and channel attention on the residual branch.
"""
import copy

import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.utils.checkpoint as cp
from mmcv.cnn import build_conv_layer, build_norm_layer
from mmengine.model import BaseModule
from mmpose.models.backbones.utils import SELayer

# 3, not CBAM's 7: CBAM convolves a 2-channel pooled map, this gate the whole residual, where a 7x7
# costs 49 MACs per channel and pixel (half of conv3 in a first-level block) and kept 4xRefine-50
# above 1.3x 4xMSPN-50's batch-1 CPU latency. On the generated CPU data the 3x3 gate scored val AP
# 0.286 against 0.283 for the 7x7 (one run each, same data and seed) in 9% less training time.
SPATIAL_ATTENTION_KERNEL = 3
CHANNEL_ATTENTION_REDUCTION = 16


class SpatialGateConv(nn.Conv2d):
    """The spatial gate's ``k x k`` conv to one channel, computed as a 1x1 conv and a fold.

    Same parameters, state_dict and result as ``nn.Conv2d(in_channels, 1, k, padding=k // 2)``.
    Why: oneDNN and ONNX Runtime run a conv with one output channel several times slower than a
    GEMM of the same FLOPs (256 channels at 64x48, batch 1, 2 threads, 3x3: 1.56 ms against 0.44 ms
    in this form, ONNX Runtime 1.51 against 0.30 ms; 7x7: 9.1 against 1.1 ms), so the export keeps
    the fold too. Here the ``k * k`` taps are the output channels of a 1x1 conv (a GEMM) and
    ``F.fold`` sums each tap into the pixel it belongs to.
    """

    def __init__(self, in_channels, kernel_size):
        super().__init__(in_channels, 1, kernel_size, padding=kernel_size // 2)

    def reset_parameters(self):
        """Zeros: the gate starts half open at every pixel (``sigmoid(0)``) and learns from there.

        Why not a conv init: with one output channel, Kaiming's fan-out rule (MMPose's default for
        convs) draws weights of std 0.47 over ``in_channels * k * k`` inputs, which saturates the
        sigmoid: at init 80% of the main job model's gate values lay below 0.05 or above 0.95,
        where its gradient vanishes, so each training seed froze a different random mask into the
        residuals.
        """
        nn.init.zeros_(self.weight)
        nn.init.zeros_(self.bias)

    def forward(self, x):
        kernel_size = self.kernel_size[0]
        # fold adds tap (i, j) of pixel p to p - (i, j) + padding: taps go in flipped order
        taps = self.weight[0].flip(1, 2).flatten(1).t()[..., None, None]
        cols = F.conv2d(x, taps).flatten(2)
        # plain ints: ONNX export (Col2Im, opset >= 18) needs a constant output size; a traced
        # graph is then specific to its input size, as a top-down pose model's is anyway
        output_size = tuple(int(size) for size in x.shape[-2:])
        out = F.fold(cols, output_size, kernel_size=kernel_size, padding=self.padding[0])
        # in the taps' dtype, as nn.Conv2d's output is under autocast (the float32 bias would
        # promote a bfloat16 gate, and with it the rest of the residual branch)
        return out + self.bias.view(1, 1, 1, 1).to(out.dtype)


def reset_spatial_gates(module: nn.Module) -> None:
    """Give every ``SpatialGateConv`` below ``module`` its own init again, after an init_cfg whose
    ``Conv2d`` rule matched it as a conv."""
    for child in module.modules():
        if isinstance(child, SpatialGateConv):
            child.reset_parameters()


class SplitConv2d(nn.Conv2d):
    """The multi-scale split's 3x3 conv, run by oneDNN on a CPU at any batch size.

    Why: at batch 1 PyTorch sends a 3x3 conv whose input has at most 20480 elements to its im2col
    kernel, judged faster there; the split's narrow groups fall under that rule (104 channels at
    16x12 and 208 at 8x6 in Refine-50 at 256x192, neither in ResNet-50) and ran 1.5-2x slower
    than in oneDNN (CPU, 2 threads). Traced and compiled graphs (TorchScript, ONNX export,
    ``torch.compile``, whose fake tensors the oneDNN op rejects) keep the plain conv.
    """

    def forward(self, x):
        # compile check first: torch.compile cannot trace mkldnn.is_available (a graph break)
        if (not torch.compiler.is_compiling() and not torch.jit.is_tracing()
                and x.device.type == 'cpu' and x.dtype == torch.float32
                and self.padding_mode == 'zeros' and torch.backends.mkldnn.is_available()
                and torch.backends.mkldnn.enabled):
            return torch.ops.aten.mkldnn_convolution(x, self.weight, self.bias, self.padding,
                                                     self.stride, self.dilation, self.groups)
        return super().forward(x)


class ChannelGate(SELayer):
    """MMPose's squeeze-excitation layer that can also hand out its per-channel scale.

    Same modules and state_dict keys as ``SELayer``; ``scale`` lets the block apply the scale and
    the residual add in one pass over the feature map.
    """

    def scale(self, x):
        return self.conv2(self.conv1(self.global_avgpool(x)))


class RefineBottleneck(BaseModule):
    """Bottleneck with a hierarchical multi-scale 3x3 stage and attention.

    The argument list is MMPose's ``Bottleneck`` one (so ``ResLayer`` and ``ResNet`` can build it)
    plus the four Refine options. With ``scales=1``, ``base_width=64`` and both attentions off it is
    exactly MMPose's (and torchvision's) ResNet bottleneck, with the same state_dict keys.

    With ``scales > 1`` the 1x1 conv widens to ``width * scales`` channels
    (``width = planes * base_width // 64``), split into ``scales`` groups: group 1 passes through
    (average-pooled in the first block of a stage), every later group goes through its own 3x3
    conv, group ``i > 2`` after adding group ``i - 1``'s output, so later groups see ever larger
    receptive fields (as in Res2Net). In the first block of a stage, which changes resolution or
    channels, the groups are not chained.

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels (``planes * expansion``).
        expansion (int): Ratio of ``out_channels`` to ``planes``. Default: 4.
        stride (int): Stride of the block. Default: 1.
        dilation (int): Dilation of the 3x3 convs. Default: 1.
        downsample (nn.Module, optional): Projection of the identity branch.
        style (str): ``'pytorch'`` (stride on the 3x3 conv) or ``'caffe'`` (on the first 1x1).
        with_cp (bool): Use gradient checkpointing. Default: False.
        conv_cfg (dict, optional): Conv layer config.
        norm_cfg (dict): Norm layer config. Default: ``dict(type='BN')``.
        scales (int): Number of groups of the multi-scale split. Default: 1.
        base_width (int): Group width per 64 planes. Default: 64.
        spatial_attention (bool): Gate the residual by ``sigmoid(conv(x))``. Default: False.
        channel_attention (bool): Squeeze-excitation (reduction 16) on the residual. Default: False.
        init_cfg (dict, optional): Initialization config.

    Example:
        >>> import torch
        >>> block = RefineBottleneck(256, 256, scales=4, base_width=26,
        ...                          spatial_attention=True, channel_attention=True)
        >>> block(torch.rand(1, 256, 16, 12)).shape
        torch.Size([1, 256, 16, 12])
    """

    expansion = 4

    def __init__(self,
                 in_channels,
                 out_channels,
                 expansion=4,
                 stride=1,
                 dilation=1,
                 downsample=None,
                 style='pytorch',
                 with_cp=False,
                 conv_cfg=None,
                 norm_cfg=dict(type='BN'),
                 scales=1,
                 base_width=64,
                 spatial_attention=False,
                 channel_attention=False,
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        norm_cfg = copy.deepcopy(norm_cfg)
        if style not in ('pytorch', 'caffe'):
            raise ValueError(f"style must be 'pytorch' or 'caffe', got {style!r}")
        if out_channels % expansion != 0:
            raise ValueError(f'out_channels ({out_channels}) is not divisible by expansion '
                             f'({expansion})')
        if scales < 1:
            raise ValueError(f'scales must be >= 1, got {scales}')
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.scales = scales
        self.with_cp = with_cp
        planes = out_channels // expansion
        self.width = planes * base_width // 64
        if self.width < 1:
            raise ValueError(f'base_width={base_width} leaves no channel per group for '
                             f'{planes} planes')
        mid_channels = self.width * scales
        conv1_stride, conv2_stride = (1, stride) if style == 'pytorch' else (stride, 1)

        self.conv1 = build_conv_layer(
            conv_cfg, in_channels, mid_channels, kernel_size=1, stride=conv1_stride, bias=False)
        self.norm1_name, norm1 = build_norm_layer(norm_cfg, mid_channels, postfix=1)
        self.add_module(self.norm1_name, norm1)

        def conv3x3(channels, conv_type=nn.Conv2d):
            conv_args = dict(kernel_size=3, stride=conv2_stride, padding=dilation,
                             dilation=dilation, bias=False)
            if conv_cfg is None:
                return conv_type(channels, channels, **conv_args)
            return build_conv_layer(conv_cfg, channels, channels, **conv_args)

        if scales == 1:
            # keep ResNet's key names so ImageNet ResNet/MSPN weights load unchanged
            self.conv2 = conv3x3(mid_channels)
            self.norm2_name, norm2 = build_norm_layer(norm_cfg, mid_channels, postfix=2)
            self.add_module(self.norm2_name, norm2)
        else:
            # key names follow timm's Bottle2neck so Res2Net ImageNet weights map one to one
            self.convs = nn.ModuleList(
                conv3x3(self.width, SplitConv2d) for _ in range(scales - 1))
            self.bns = nn.ModuleList(
                build_norm_layer(norm_cfg, self.width)[1] for _ in range(scales - 1))
            # the first block of a stage changes resolution or channels, so its groups cannot be
            # chained; its pass-through group is pooled to the new resolution instead
            self.stage_entry = stride > 1 or downsample is not None
            self.pool = (nn.AvgPool2d(kernel_size=3, stride=conv2_stride, padding=1)
                         if self.stage_entry else None)

        self.conv3 = build_conv_layer(conv_cfg, mid_channels, out_channels, kernel_size=1,
                                      bias=False)
        self.norm3_name, norm3 = build_norm_layer(norm_cfg, out_channels, postfix=3)
        self.add_module(self.norm3_name, norm3)

        self.spatial_attention = (
            SpatialGateConv(out_channels, SPATIAL_ATTENTION_KERNEL) if spatial_attention else None)
        self.channel_attention = (
            ChannelGate(out_channels, ratio=CHANNEL_ATTENTION_REDUCTION)
            if channel_attention else None)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    @property
    def norm1(self):
        return getattr(self, self.norm1_name)

    @property
    def norm2(self):
        return getattr(self, self.norm2_name)

    @property
    def norm3(self):
        return getattr(self, self.norm3_name)

    def _multi_scale(self, x):
        if self.scales == 1:
            return self.relu(self.norm2(self.conv2(x)))
        groups = torch.split(x, self.width, dim=1)
        outs = [groups[0] if self.pool is None else self.pool(groups[0])]
        for group, conv, norm in zip(groups[1:], self.convs, self.bns):
            if len(outs) > 1 and not self.stage_entry:
                group = group + outs[-1]
            outs.append(self.relu(norm(conv(group))))
        return torch.cat(outs, dim=1)

    def _residual(self, x):
        """The residual branch up to the channel attention, which ``forward`` applies."""
        out = self.relu(self.norm1(self.conv1(x)))
        out = self._multi_scale(out)
        out = self.norm3(self.conv3(out))
        if self.spatial_attention is not None:
            out = out * torch.sigmoid(self.spatial_attention(out))
        return out

    def forward(self, x):
        def inner_forward(x):
            identity = x if self.downsample is None else self.downsample(x)
            out = self._residual(x)
            if self.channel_attention is None:
                return out + identity
            return torch.addcmul(identity, out, self.channel_attention.scale(out))

        if self.with_cp and x.requires_grad:
            out = cp.checkpoint(inner_forward, x, use_reentrant=False)
        else:
            out = inner_forward(x)
        return self.relu(out)

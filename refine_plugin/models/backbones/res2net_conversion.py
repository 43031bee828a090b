"""ImageNet weights for Refine-50: timm's Res2Net and torchvision's ResNet to the plugin's layouts.

timm's ``res2net50_26w_4s`` (https://huggingface.co/timm/res2net50_26w_4s.in1k) has the key names
of ``RefineBottleneck`` already; the only difference is the group order: timm convolves groups
1..s-1 and passes group s through, ``RefineBottleneck`` passes group 1 through (the paper's order).
The conversion rotates the channels of ``conv1``/``bn1`` (outputs) and ``conv3`` (inputs), which
leaves the function computed by every block unchanged. Attention layers have no counterpart and
keep their initialisation.
"""
import re

import torch

_CONVS_KEY = re.compile(r'^(.*\.)?convs\.(\d+)\.weight$')
_BN_TENSORS = ('weight', 'bias', 'running_mean', 'running_var')


def is_res2net_state_dict(state_dict):
    """Whether ``state_dict`` has timm's Res2Net layout (multi-scale ``convs`` in its blocks)."""
    return any(_CONVS_KEY.match(key) for key in state_dict)


def _pass_through_first(width, scales):
    """Channel order moving timm's last (pass-through) group in front of the convolved ones."""
    return torch.cat([torch.arange((scales - 1) * width, scales * width),
                      torch.arange(0, (scales - 1) * width)])


def _res2net_blocks(state_dict):
    """``{block key prefix (with its dot): number of multi-scale convs}`` of a Res2Net."""
    blocks = {}
    for key in state_dict:
        match = _CONVS_KEY.match(key)
        if match:
            prefix, index = match.group(1) or '', int(match.group(2))
            blocks[prefix] = max(blocks.get(prefix, 0), index + 1)
    return blocks


def convert_timm_res2net(state_dict):
    """timm Res2Net state_dict -> ``RefineResNet`` state_dict (classifier dropped)."""
    converted = {key: value for key, value in state_dict.items() if not key.startswith('fc.')}
    for prefix, num_convs in _res2net_blocks(state_dict).items():
        width = state_dict[f'{prefix}convs.0.weight'].shape[0]
        index = _pass_through_first(width, num_convs + 1)
        converted[f'{prefix}conv1.weight'] = state_dict[f'{prefix}conv1.weight'][index]
        for name in _BN_TENSORS:
            converted[f'{prefix}bn1.{name}'] = state_dict[f'{prefix}bn1.{name}'][index]
        converted[f'{prefix}conv3.weight'] = state_dict[f'{prefix}conv3.weight'][:, index]
    return converted


def to_multi_stage_encoder_layout(state_dict):
    """An ImageNet ResNet (torchvision layout) or timm Res2Net -> (stem, encoder) state_dicts.

    ``stem`` fits MMPose's ``ResNetTop.top`` and ``encoder`` fits one stage encoder of
    ``MultiStageRefineNet`` (whose projection shortcuts are ``ConvModule`` s: ``conv``/``bn``).
    """
    if is_res2net_state_dict(state_dict):
        state_dict = convert_timm_res2net(state_dict)
    stem, encoder = {}, {}
    for key, value in state_dict.items():
        if key.startswith('conv1.'):
            stem[key.replace('conv1.', '0.conv.', 1)] = value
        elif key.startswith('bn1.'):
            stem[key.replace('bn1.', '0.bn.', 1)] = value
        elif key.startswith('layer'):
            key = key.replace('.downsample.0.', '.downsample.conv.')
            encoder[key.replace('.downsample.1.', '.downsample.bn.')] = value
    return stem, encoder

"""Flip-test heatmaps put back in the original crop's frame, to the sub-pixel.

A keypoint at input column ``x`` sits at heatmap column ``x * w / W`` (``W``, ``w``: input and
heatmap widths). Mirroring the crop moves it to input column ``W - 1 - x``; flipping the mirrored
crop's heatmap back then puts it ``1 - w / W`` pixels left of where the crop's own heatmap has it:
0.75 pixels for a network of stride 4. MMPose's ``shift_heatmap=True`` moves it one whole pixel
right, which leaves it 0.25 pixels right, so the averaged heatmaps' peaks sit 1/8 pixel right of
the truth, half an input pixel at stride 4. ``shift_heatmap='exact'`` moves it by ``1 - w / W``.
"""
from typing import Sequence, Union

import torch


def flip_shift_pixels(shift_heatmap: Union[bool, str], codec) -> float:
    """Pixels to move a flipped-back heatmap right: 0 (False), 1 (True) or ``1 - w / W``
    (``'exact'``, from the heatmap codec's ``input_size`` and ``heatmap_size``)."""
    if shift_heatmap == 'exact':
        return 1. - codec.heatmap_size[0] / codec.input_size[0]
    if isinstance(shift_heatmap, bool):
        return float(shift_heatmap)
    raise ValueError(f"shift_heatmap must be True, False or 'exact', got {shift_heatmap!r}")


def flip_back_heatmaps(mirrored: torch.Tensor, flip_indices: Union[Sequence[int], torch.Tensor],
                       shift: float) -> torch.Tensor:
    """Heatmaps ``(B, K, H, W)`` of mirrored crops in the original crops' frame.

    Flips them back, gives each keypoint its mirror's map, and moves them ``shift`` pixels right by
    linear interpolation (the first column repeated, as MMPose's whole-pixel shift does).
    """
    if not 0. <= shift <= 1.:
        raise ValueError(f'shift must be within [0, 1] pixels, got {shift}')
    heatmaps = mirrored.flip(-1).index_select(
        1, torch.as_tensor(flip_indices, device=mirrored.device))
    if shift == 0.:
        return heatmaps
    shifted = torch.cat([heatmaps[..., :1], heatmaps[..., :-1]], dim=-1)
    return shifted if shift == 1. else (1. - shift) * heatmaps + shift * shifted

"""The fast PyTorch inference path for top-down heatmap models.

Eager MMPose spends CPU time on BatchNorm passes, NCHW<->blocked layout reorders inside oneDNN and
autograd bookkeeping. The fast path removes all three: BN folded into the convs, weights and
inputs in ``channels_last`` (the layout oneDNN's CPU convolutions run natively), and
``torch.inference_mode``. Optionally the network is traced and frozen by TorchScript, which
fuses conv + ReLU/add and drops Python dispatch between modules.
"""
import torch
from torch import nn

from .folded_network import example_input, folded_heatmap_network


class FastHeatmapNetwork:
    """Call with ``(B, 3, h, w)`` normalised crops; returns the final ``(B, K, H, W)`` heatmaps.

    Args:
        pose_model: a built top-down estimator; it is copied, never modified.
        freeze: also trace and freeze the folded network with TorchScript.
    """

    def __init__(self, pose_model: nn.Module, freeze: bool = True):
        network = folded_heatmap_network(pose_model).to(memory_format=torch.channels_last)
        if freeze:
            example = example_input(pose_model).to(memory_format=torch.channels_last)
            with torch.no_grad():
                network = torch.jit.freeze(torch.jit.trace(network, example))
        self.network = network

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        with torch.inference_mode():
            return self.network(images.contiguous(memory_format=torch.channels_last))

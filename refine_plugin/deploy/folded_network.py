"""The network both deployment paths start from: the estimator's heatmap function, BN folded.

The flip test is included exactly when the model's ``test_cfg`` asks for it, so the fast path
and the ONNX file compute what ``model.test_step`` decodes.
"""
import copy

import torch

from .bn_folding import fold_batchnorm
from .heatmap_network import HeatmapNetwork


def example_input(pose_model: torch.nn.Module, batch_size: int = 1) -> torch.Tensor:
    """Zeros shaped like a batch of the model's crops, on the model's device."""
    input_w, input_h = pose_model.cfg.model.head.decoder['input_size']
    device = next(pose_model.parameters()).device
    return torch.zeros(batch_size, 3, input_h, input_w, device=device)


def folded_heatmap_network(pose_model: torch.nn.Module) -> HeatmapNetwork:
    """A BN-folded eval-mode copy of ``pose_model`` as a tensor function;
    ``pose_model`` itself is not modified."""
    network = HeatmapNetwork.from_test_cfg(copy.deepcopy(pose_model).eval(),
                                           pose_model.dataset_meta['flip_indices']).eval()
    fold_batchnorm(network, example_input(pose_model))
    return network

"""The fast PyTorch inference path for top-down heatmap models.

Eager MMPose spends CPU time on BatchNorm passes, NCHW<->blocked layout reorders inside oneDNN and
autograd bookkeeping. The fast path removes all three: BN folded into the convs, weights and
inputs in ``channels_last`` (the layout oneDNN's CPU convolutions run natively), and
``torch.inference_mode``. Then a compiler removes Python dispatch between modules: TorchScript
(trace and freeze; fuses conv + ReLU/add), or TorchInductor (``torch.compile`` with freezing:
weights pre-packed for oneDNN, chains of elementwise ops, such as the Refine blocks' gates, fused
into generated kernels; slow to compile, faster to run on Refine blocks).

With ``dtype=torch.bfloat16`` the network runs in bfloat16 except its heatmap predictors
(``keep_heatmap_convs_float32``), and heatmaps come back as float32. That pays on CPUs with native
bfloat16 arithmetic (Intel AMX or AVX512-BF16, see ``native_bfloat16_cpu``), where oneDNN runs
bfloat16 convs several times faster than float32; elsewhere bfloat16 is emulated, which cannot be
faster than float32. Check its keypoints on your data with ``tools/deploy/evaluate_fast_path.py``
before you use it.
"""
import warnings
from typing import Optional

import numpy as np
import torch
from torch import nn

from .folded_network import example_input, folded_heatmap_network
from .onnx_export import deployment_metadata
from .ort_pose import TopdownHeatmapInferencer


def native_bfloat16_cpu() -> bool:
    """Whether this CPU has bfloat16 arithmetic of its own (AMX or AVX512-BF16).

    torch has no public query for these; its ``torch.cpu`` helpers ask oneDNN's CPU detection.
    """
    return torch.cpu._is_amx_tile_supported() or torch.cpu._is_avx512_bf16_supported()


class Float32Conv(nn.Module):
    """A conv left in float32 inside a bfloat16 network; its input is cast up first."""

    def __init__(self, conv: nn.Conv2d):
        super().__init__()
        self.conv = conv.float()

    def forward(self, x):
        return self.conv(x.float())


def keep_heatmap_convs_float32(network: nn.Module, num_keypoints: int) -> None:
    """Put every conv to ``num_keypoints`` channels (the heatmap predictors) back in float32.

    Why: the decoders read sub-pixel positions off the heatmaps (from the log-heatmap's
    derivatives), and bfloat16's 8-bit mantissa on the heatmaps alone moved the main job's
    keypoints a median 0.16 px (95th percentile 0.77 px) from float32's. These convs are a tiny
    share of the work.
    """
    for parent in list(network.modules()):
        for name, child in list(parent.named_children()):
            if isinstance(child, nn.Conv2d) and child.out_channels == num_keypoints:
                setattr(parent, name, Float32Conv(child))


COMPILERS = ('torchscript', 'inductor', None)


class FastHeatmapNetwork:
    """Call with ``(B, 3, h, w)`` normalised crops; returns the final ``(B, K, H, W)`` heatmaps
    in float32.

    Args:
        pose_model: a built top-down estimator; it is copied, never modified.
        compiler: ``'torchscript'`` (trace and freeze), ``'inductor'`` (``torch.compile`` with
            freezing; needs a C++ compiler, and compiles once per batch size, for minutes on a
            2-core CPU: keep the batch size fixed) or ``None`` (the folded modules, eagerly).
        dtype: ``torch.float32`` or ``torch.bfloat16``, the arithmetic of the network.
    """

    def __init__(self, pose_model: nn.Module, compiler: Optional[str] = 'torchscript',
                 dtype: torch.dtype = torch.float32):
        if dtype not in (torch.float32, torch.bfloat16):
            raise ValueError(f'dtype must be torch.float32 or torch.bfloat16, got {dtype}')
        if compiler not in COMPILERS:
            raise ValueError(f'compiler must be one of {COMPILERS}, got {compiler!r}')
        network = folded_heatmap_network(pose_model).to(dtype=dtype,
                                                        memory_format=torch.channels_last)
        if dtype == torch.bfloat16:
            keep_heatmap_convs_float32(network, pose_model.dataset_meta['num_keypoints'])
        if compiler == 'torchscript':
            example = example_input(pose_model).to(dtype=dtype, memory_format=torch.channels_last)
            with torch.no_grad(), warnings.catch_warnings():
                # torch deprecates TorchScript for torch.compile / torch.export and says so at
                # every trace and freeze; it stays the default here because it needs neither a
                # C++ compiler nor minutes of compiling per batch size ('inductor' does)
                warnings.filterwarnings('ignore', category=FutureWarning, module=r'torch\.jit')
                network = torch.jit.freeze(torch.jit.trace(network, example))
        elif compiler == 'inductor':
            # static shapes: a graph for any batch size ran 4xRefine-50 in bfloat16 at batch 1
            # 1.05x as fast as TorchScript, where static graphs ran 1.08-1.30x (2-core runs)
            network = torch.compile(network, dynamic=False, options=dict(freezing=True))
        self.network = network
        self.dtype = dtype

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        with torch.inference_mode():
            images = images.to(dtype=self.dtype, memory_format=torch.channels_last)
            return self.network(images).float()


class FastPoseInferencer(TopdownHeatmapInferencer):
    """Keypoints of the people in a BGR image from the fast path, with the crops and decoding of
    ``OnnxPoseInferencer``, so both deployment paths can be compared person by person.

    Args:
        pose_model: a built top-down estimator (``mmpose.apis.init_model``).
        dtype: as for ``FastHeatmapNetwork``.
        batch_size: persons per network call.
    """

    def __init__(self, pose_model: nn.Module, dtype: torch.dtype = torch.float32,
                 batch_size: int = 8):
        super().__init__(deployment_metadata(pose_model.cfg, pose_model.dataset_meta), batch_size)
        self.network = FastHeatmapNetwork(pose_model, dtype=dtype)
        self.device = next(pose_model.parameters()).device

    def run_network(self, images: np.ndarray) -> np.ndarray:
        return self.network(torch.from_numpy(images).to(self.device)).cpu().numpy()

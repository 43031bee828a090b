"""AutocastOptimWrapper: bfloat16 mixed-precision training under ``torch.autocast``, CPUs included.

MMEngine's ``AmpOptimWrapper`` refuses to start without a GPU, NPU, MLU or MUSA, and brings a loss
scaler that bfloat16 does not need (it has float32's exponent range). On a CPU with bfloat16
arithmetic of its own (AMX or AVX512-BF16) oneDNN's bfloat16 convolutions make the CPU configs'
train step up to 1.3x faster; on other CPUs bfloat16 is emulated, slower than float32, so there this
wrapper trains in float32.
"""
from contextlib import contextmanager, nullcontext

import torch
from mmengine.logging import print_log
from mmengine.optim import OptimWrapper
from mmpose.registry import OPTIM_WRAPPERS

from ..deploy.fast_inference import native_bfloat16_cpu


@OPTIM_WRAPPERS.register_module()
class AutocastOptimWrapper(OptimWrapper):
    """``OptimWrapper`` whose forward passes (model and loss) run under bfloat16 autocast.

    The autocast device is the model's, so a config runs unchanged on a CPU or a GPU. Parameters,
    gradients and the optimizer's states stay float32; autocast picks the ops that run in
    bfloat16 (convolutions and matmuls). On a CPU without native bfloat16 arithmetic the forward
    passes stay float32 (logged once).

    Args:
        dtype (str): ``'bfloat16'``, the only one that needs no loss scaling.
            Default: ``'bfloat16'``.
        **kwargs: ``OptimWrapper`` arguments (``optimizer``, ``clip_grad``, ...).
    """

    def __init__(self, dtype='bfloat16', **kwargs):
        if dtype != 'bfloat16':
            raise ValueError(f"{type(self).__name__} trains in 'bfloat16' only (float16 needs "
                             f"AmpOptimWrapper's loss scaling), got {dtype!r}")
        super().__init__(**kwargs)
        self.cast_dtype = torch.bfloat16
        self._autocast_on_cpu = None

    def _autocast(self, device_type):
        if device_type != 'cpu':
            return torch.autocast(device_type, dtype=self.cast_dtype)
        if self._autocast_on_cpu is None:
            self._autocast_on_cpu = native_bfloat16_cpu()
            if not self._autocast_on_cpu:
                print_log('this CPU has no native bfloat16 arithmetic (AMX or AVX512-BF16): '
                          'AutocastOptimWrapper trains in float32', logger='current')
        if self._autocast_on_cpu:
            return torch.autocast(device_type, dtype=self.cast_dtype)
        return nullcontext()

    @contextmanager
    def optim_context(self, model):
        device_type = next(model.parameters()).device.type
        with super().optim_context(model), self._autocast(device_type):
            yield

"""Fold inference-mode BatchNorm into the convolution that feeds it.

MMPose networks are built from ``ConvModule`` blocks, ResNet bottlenecks and plugin modules whose
forward methods contain Python control flow and shape assertions, so ``torch.fx`` cannot trace them
(MSPNHead fails on its channel assertion). Instead the conv -> BN pairs are found by running the
network once and watching which tensor each module receives: a BatchNorm whose input is the very
tensor object a Conv2d just returned, with each module called exactly once and no other operation
reading that conv output, is a pair that can be folded. Pairs that do not meet that rule are left
alone, so folding never changes what the network computes.
"""
import torch
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval
from torch.overrides import TorchFunctionMode


def tensor_arguments(args, kwargs):
    """The tensors among a call's arguments, also inside lists such as ``torch.cat``'s."""
    for arg in list(args) + list((kwargs or {}).values()):
        if isinstance(arg, torch.Tensor):
            yield arg
        elif isinstance(arg, (list, tuple)):
            yield from (a for a in arg if isinstance(a, torch.Tensor))


class TensorUseCounter(TorchFunctionMode):
    """Counts, per watched tensor, the torch calls that compute a new tensor from it.

    Calls made inside a BatchNorm's own forward are not counted: they are that BN's one use.
    Calls returning no tensor (``.dim()``, ``.size()``) read metadata and are not uses either.
    """

    def __init__(self):
        super().__init__()
        self.watched = {}
        self.uses = {}
        self.inside_bn = 0

    def __torch_function__(self, func, types, args=(), kwargs=None):
        result = func(*args, **(kwargs or {}))
        if not self.inside_bn and isinstance(result, torch.Tensor):
            for arg in tensor_arguments(args, kwargs):
                if id(arg) in self.watched:
                    self.uses[id(arg)] = self.uses.get(id(arg), 0) + 1
        return result


def find_conv_bn_pairs(network: nn.Module, example_input: torch.Tensor) -> list:
    """Names ``(conv, bn)`` of every (transposed) Conv2d whose output goes into a BatchNorm2d and
    nowhere else."""
    names = {module: name for name, module in network.named_modules()}
    calls = {}
    counter = TensorUseCounter()
    bn_inputs = []

    def on_conv(module, args, output):
        calls[module] = calls.get(module, 0) + 1
        # the tensor is kept alive in ``watched`` so its id cannot be reused during the pass
        counter.watched[id(output)] = (module, output)

    def before_bn(module, args):
        calls[module] = calls.get(module, 0) + 1
        bn_inputs.append((module, id(args[0])))
        counter.inside_bn += 1

    def after_bn(module, args, output):
        counter.inside_bn -= 1

    handles = []
    for module in names:
        if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
            handles.append(module.register_forward_hook(on_conv))
        elif isinstance(module, nn.BatchNorm2d):
            handles.append(module.register_forward_pre_hook(before_bn))
            handles.append(module.register_forward_hook(after_bn))
    try:
        with torch.no_grad(), counter:
            network(example_input)
    finally:
        for handle in handles:
            handle.remove()

    pairs = []
    for bn, input_id in bn_inputs:
        conv = counter.watched.get(input_id, (None, ))[0]
        if (conv is not None and calls[conv] == 1 and calls[bn] == 1
                and counter.uses.get(input_id, 0) == 0):
            pairs.append((names[conv], names[bn]))
    return pairs


def fold_batchnorm(network: nn.Module, example_input: torch.Tensor) -> int:
    """Fold every conv -> BN pair of an eval-mode ``network`` in place; returns how many.

    Each folded BatchNorm2d becomes ``nn.Identity`` and its conv takes the BN's affine transform (with
    the running statistics) into its weight and bias, which is exact up to float rounding.
    """
    if network.training:
        raise ValueError('fold_batchnorm needs an eval-mode network: training-mode BatchNorm '
                         'uses batch statistics that cannot be folded')
    pairs = find_conv_bn_pairs(network, example_input)
    for conv_name, bn_name in pairs:
        conv = network.get_submodule(conv_name)
        bn = network.get_submodule(bn_name)
        transpose = isinstance(conv, nn.ConvTranspose2d)
        network.set_submodule(conv_name, fuse_conv_bn_eval(conv, bn, transpose=transpose))
        network.set_submodule(bn_name, nn.Identity())
    return len(pairs)

"""AutocastOptimWrapper: bfloat16 train steps on the model's own device (a CPU here) with float32
parameters, gradients and heatmaps for the losses, close to a float32 step; float32 on CPUs
without native bfloat16 arithmetic."""
import copy

import pytest
import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope
from mmpose.registry import MODELS
from test_channels_last import CONFIG, relative_error, train_batch

import refine_plugin  # noqa: F401
from refine_plugin.engine import autocast_optim_wrapper


@pytest.fixture(scope='module')
def model_and_batch(tiny_coco):
    init_default_scope('mmpose')
    cfg = Config.fromfile(str(CONFIG))
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    return model, train_batch(cfg, tiny_coco)


@pytest.fixture(params=[True, False], ids=['native-bfloat16-cpu', 'no-native-bfloat16'])
def native_bfloat16(request, monkeypatch):
    # either kind of CPU, whatever this one is: autocast runs (emulated if need be) on any CPU
    monkeypatch.setattr(autocast_optim_wrapper, 'native_bfloat16_cpu', lambda: request.param)
    return request.param


def train_step_outputs(model, batch, optim_wrapper_type):
    """One train step's loss and gradients, the forward run in the wrapper's context as
    ``BaseModel.train_step`` does, and the output dtype of every conv and of the head."""
    model = copy.deepcopy(model).train()
    optim_wrapper = build_optim_wrapper(
        model, dict(type=optim_wrapper_type, optimizer=dict(type='Adam', lr=1e-3)))
    dtypes = {}

    def record(name):
        def hook(module, inputs, output):
            dtypes[name] = output.dtype
        return hook

    for name, module in model.named_modules():
        if isinstance(module, torch.nn.Conv2d):
            module.register_forward_hook(record(name))
    # MSPNHead.loss calls its forward directly, past any module hook
    head_forward = model.head.forward

    def recorded_head_forward(feats):
        heatmaps = head_forward(feats)
        dtypes['head'] = heatmaps[-1].dtype
        return heatmaps

    model.head.forward = recorded_head_forward
    with optim_wrapper.optim_context(model):
        data = model.data_preprocessor(copy.deepcopy(batch), True)
        loss = model(**data, mode='loss')['loss_kpt']
    loss.backward()
    return loss, {name: p.grad for name, p in model.named_parameters()}, dtypes


def test_train_step_against_float32(model_and_batch, native_bfloat16):
    model, batch = model_and_batch
    reference_loss, reference, _ = train_step_outputs(model, batch, 'OptimWrapper')
    loss, grads, dtypes = train_step_outputs(model, batch, 'AutocastOptimWrapper')
    conv_dtypes = {dtype for name, dtype in dtypes.items() if name != 'head'}
    # every conv, the spatial gates' included (their float32 bias must not promote them)
    assert conv_dtypes == {torch.bfloat16 if native_bfloat16 else torch.float32}
    # the losses and MSPNHead's accuracy (numpy) get float32 heatmaps
    assert dtypes['head'] == torch.float32
    assert loss.dtype == torch.float32
    assert all(grad.dtype == torch.float32 for grad in grads.values())
    if not native_bfloat16:
        assert loss.item() == pytest.approx(reference_loss.item(), rel=1e-6)
        assert relative_error(grads, reference) < 1e-5
        return
    # bfloat16 keeps 8 mantissa bits. Measured on three batches at init: the loss within 4e-4 of
    # float32's; the gradients' relative error 0.29-0.30 (the backbone's, through BatchNorm's
    # cancellations; 0.05-0.08 with trained weights), the head's 0.035-0.037. A wrong or missing
    # gradient path would be of order 1.
    assert loss.item() == pytest.approx(reference_loss.item(), rel=2e-3)
    assert relative_error(grads, reference) < 0.5
    head = {name: grad for name, grad in reference.items() if name.startswith('head.')}
    assert relative_error(grads, head) < 0.1


def test_train_step_updates_float32_parameters(model_and_batch, native_bfloat16):
    model, batch = model_and_batch
    model = copy.deepcopy(model)
    optim_wrapper = build_optim_wrapper(
        model, dict(type='AutocastOptimWrapper', optimizer=dict(type='Adam', lr=1e-3)))
    before = {name: p.detach().clone() for name, p in model.named_parameters()}
    log_vars = model.train_step(copy.deepcopy(batch), optim_wrapper)
    assert torch.isfinite(log_vars['loss'])
    assert all(p.dtype == torch.float32 for p in model.parameters())
    assert all(not torch.equal(p, before[name]) for name, p in model.named_parameters())


def test_only_bfloat16():
    with pytest.raises(ValueError, match='float16'):
        build_optim_wrapper(torch.nn.Conv2d(1, 1, 1), dict(
            type='AutocastOptimWrapper', dtype='float16', optimizer=dict(type='SGD', lr=0.1)))

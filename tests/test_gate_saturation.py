"""The Refine blocks' attention gates: tools/analysis/gate_saturation.py records them and measures
their saturation (the main job's model at its init, with gates forced open or shut), and the main
job's config steps them slower."""
import subprocess
import sys

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmpose.registry import MODELS

from conftest import MAIN_JOB_POSE_CONFIG, REPO_ROOT, markdown_rows
from refine_plugin.models.backbones.refine_bottleneck import ChannelGate, SpatialGateConv

sys.path.insert(0, str(REPO_ROOT / 'tools/analysis'))
import gate_saturation  # noqa: E402

sys.path.pop(0)


def gates(model, kind):
    return [(name, module) for name, module in model.named_modules() if isinstance(module, kind)]


@pytest.fixture
def model():
    init_default_scope('mmpose')
    torch.manual_seed(0)
    model = MODELS.build(Config.fromfile(MAIN_JOB_POSE_CONFIG).model)
    model.init_weights()
    return model.eval()


def force_gates(model):
    """Opens the first spatial gate at every pixel and shuts channel 0 of the first
    squeeze-excitation; returns their names."""
    spatial_name, spatial = gates(model, SpatialGateConv)[0]
    channel_name, channel = gates(model, ChannelGate)[0]
    with torch.no_grad():
        spatial.bias.fill_(20.)
        channel.conv2.conv.bias[0] = -30.
    return spatial_name, channel_name


def test_rows_at_init_and_with_forced_gates(model):
    spatial_name, channel_name = force_gates(model)
    with gate_saturation.GateRecorder(model) as recorder, torch.no_grad():
        model.backbone(torch.randn(3, 3, 96, 72))
    model.backbone(torch.randn(1, 3, 96, 72))  # hooks gone after the block: not recorded
    rows = {row['gate']: row for row in gate_saturation.saturation_rows(recorder.values)}

    spatial_gates = gates(model, SpatialGateConv)
    channel_gates = gates(model, ChannelGate)
    assert len(rows) == len(spatial_gates) + len(channel_gates) > 2
    for name, _ in spatial_gates:
        assert rows[name]['kind'] == 'spatial'
        assert recorder.values[name, 'spatial'][0].shape[0] == 3
    # zero-initialised spatial gates start half open everywhere; the forced one is open
    assert rows[spatial_name]['mean'] > 0.999 and rows[spatial_name]['saturated'] == 1.
    for name, _ in spatial_gates[1:]:
        assert rows[name]['mean'] == pytest.approx(0.5) and rows[name]['saturated'] == 0.
    num_channels = channel_gates[0][1].conv2.conv.out_channels
    assert rows[channel_name]['closed'] == pytest.approx(1 / num_channels)
    for name, gate in channel_gates:
        scale = torch.cat(recorder.values[name, 'channel'])
        assert scale.shape == (3, gate.conv2.conv.out_channels)
        assert rows[name]['mean'] == pytest.approx(scale.mean().item())
        expected_saturated = ((scale < 0.05) | (scale > 0.95)).float().mean().item()
        assert rows[name]['saturated'] == pytest.approx(expected_saturated)
        assert rows[name]['open'] == (scale.amin(0) > 0.95).float().mean().item()


def test_command_prints_a_row_per_gate(model, tiny_coco, tmp_path):
    spatial_name, channel_name = force_gates(model)
    checkpoint = tmp_path / 'forced_gates.pth'
    torch.save(dict(state_dict=model.state_dict()), checkpoint)
    run = subprocess.run(
        [sys.executable, 'tools/analysis/gate_saturation.py', str(MAIN_JOB_POSE_CONFIG),
         str(checkpoint), '--data-root', tiny_coco['root'], '--batches', '1', '--device', 'cpu'],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    rows = {cells[0]: cells[1:] for cells in markdown_rows(run.stdout)
            if cells[0].startswith('backbone.')}
    assert len(rows) == len(gates(model, SpatialGateConv)) + len(gates(model, ChannelGate))
    assert rows[spatial_name][:3] == ['spatial', '1.000', '1.00']
    num_channels = gates(model, ChannelGate)[0][1].conv2.conv.out_channels
    assert float(rows[channel_name][3]) == pytest.approx(1 / num_channels, abs=0.005)


def test_main_job_config_steps_its_gates_slower():
    """Adam's first step moves every parameter by its learning rate, whatever the gradient's size:
    the gates (found by module type, so a renamed key cannot pass unnoticed), and only they, move
    by the config's ``gate_lr_mult`` times the base rate."""
    from mmengine.optim import build_optim_wrapper
    init_default_scope('mmpose')
    cfg = Config.fromfile(MAIN_JOB_POSE_CONFIG)
    assert 0 < cfg.gate_lr_mult < 1
    # float64: a gate's step (2e-5) is within float32's rounding of a weight near 1
    model = MODELS.build(cfg.model).double()
    optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    base_lr = optim_wrapper.optimizer.defaults['lr']
    before = {name: param.detach().clone() for name, param in model.named_parameters()}
    for param in model.parameters():
        param.grad = torch.full_like(param, 1e-3)
    optim_wrapper.optimizer.step()
    gate_params = {f'{name}.{param_name}'
                   for kind in (SpatialGateConv, ChannelGate) for name, gate in gates(model, kind)
                   for param_name, _ in gate.named_parameters()}
    assert gate_params
    for name, param in model.named_parameters():
        lr = base_lr * cfg.gate_lr_mult if name in gate_params else base_lr
        torch.testing.assert_close(before[name] - param.detach(), torch.full_like(param, lr),
                                   rtol=1e-3, atol=0)

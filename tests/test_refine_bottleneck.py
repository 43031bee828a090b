"""RefineBottleneck / RefineResNet: ResNet and Res2Net equivalence, conversion, gradients."""
import pytest
import timm
import torch
import torch.nn.functional as F
from mmpose.models.backbones.resnet import Bottleneck
from torch import nn

from refine_plugin.models.backbones import MultiStageRefineNet, RefineBottleneck, RefineResNet
from refine_plugin.models.backbones.refine_bottleneck import SpatialGateConv, SplitConv2d
from refine_plugin.models.backbones.res2net_conversion import convert_timm_res2net


def randomize_norms(module, seed=0):
    """Non-trivial BN statistics and affine parameters, so equal outputs mean equal functions."""
    generator = torch.Generator().manual_seed(seed)
    for m in module.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.copy_(torch.randn(m.num_features, generator=generator) * 0.1)
            m.running_var.copy_(torch.rand(m.num_features, generator=generator) + 0.5)
            m.weight.data.copy_(torch.rand(m.num_features, generator=generator) + 0.5)
            m.bias.data.copy_(torch.randn(m.num_features, generator=generator) * 0.1)
    return module


def projection(in_channels, out_channels, stride):
    return nn.Sequential(nn.Conv2d(in_channels, out_channels, 1, stride, bias=False),
                         nn.BatchNorm2d(out_channels))


@pytest.mark.parametrize('in_channels,stride', [(64, 1), (256, 2), (256, 1)])
def test_scales_1_without_attention_is_a_resnet_bottleneck(in_channels, stride):
    torch.manual_seed(0)
    needs_projection = stride != 1 or in_channels != 256
    reference = Bottleneck(in_channels, 256, stride=stride,
                           downsample=projection(in_channels, 256, stride)
                           if needs_projection else None)
    block = RefineBottleneck(in_channels, 256, stride=stride,
                             downsample=projection(in_channels, 256, stride)
                             if needs_projection else None)
    randomize_norms(reference).eval()
    block.load_state_dict(reference.state_dict(), strict=True)
    block.eval()
    x = torch.randn(2, in_channels, 16, 12)
    torch.testing.assert_close(block(x), reference(x), atol=1e-5, rtol=0)


def timm_res2net_block_state(in_channels, planes, width, scales, with_projection, seed):
    """Random state_dict laid out as one of timm's Res2Net ``Bottle2neck`` s."""
    generator = torch.Generator().manual_seed(seed)

    def bn(channels):
        return {'weight': torch.rand(channels, generator=generator) + 0.5,
                'bias': torch.randn(channels, generator=generator) * 0.1,
                'running_mean': torch.randn(channels, generator=generator) * 0.1,
                'running_var': torch.rand(channels, generator=generator) + 0.5,
                'num_batches_tracked': torch.tensor(0)}

    out_channels = planes * 4
    state = {'conv1.weight': torch.randn(width * scales, in_channels, 1, 1, generator=generator)
             * 0.1, 'conv3.weight': torch.randn(out_channels, width * scales, 1, 1,
                                                generator=generator) * 0.1}
    state.update({f'bn1.{k}': v for k, v in bn(width * scales).items()})
    state.update({f'bn3.{k}': v for k, v in bn(out_channels).items()})
    for i in range(scales - 1):
        state[f'convs.{i}.weight'] = torch.randn(width, width, 3, 3, generator=generator) * 0.1
        state.update({f'bns.{i}.{k}': v for k, v in bn(width).items()})
    if with_projection:
        state['downsample.0.weight'] = torch.randn(out_channels, in_channels, 1, 1,
                                                   generator=generator) * 0.1
        state.update({f'downsample.1.{k}': v for k, v in bn(out_channels).items()})
    return state


def timm_order_forward(state, x, width, scales, stride, with_projection):
    """timm's Bottle2neck forward written with functional ops: groups 1..s-1 are convolved
    (chained unless it is a stage's first block), group s passes through (pooled when first)."""
    def bn(t, prefix):
        return F.batch_norm(t, state[f'{prefix}.running_mean'], state[f'{prefix}.running_var'],
                            state[f'{prefix}.weight'], state[f'{prefix}.bias'], False)

    first = stride > 1 or with_projection
    out = F.relu(bn(F.conv2d(x, state['conv1.weight']), 'bn1'))
    groups = torch.split(out, width, 1)
    outs = []
    for i in range(scales - 1):
        sp = groups[i] if i == 0 or first else outs[-1] + groups[i]
        outs.append(F.relu(bn(F.conv2d(sp, state[f'convs.{i}.weight'], stride=stride,
                                       padding=1), f'bns.{i}')))
    last = F.avg_pool2d(groups[-1], 3, stride, 1) if first else groups[-1]
    out = bn(F.conv2d(torch.cat(outs + [last], 1), state['conv3.weight']), 'bn3')
    identity = (bn(F.conv2d(x, state['downsample.0.weight'], stride=stride), 'downsample.1')
                if with_projection else x)
    return F.relu(out + identity)


@pytest.mark.parametrize('in_channels,stride,with_projection',
                         [(64, 1, True), (256, 2, True), (256, 1, False)])
def test_res2net_conversion_matches_timm_block_order(in_channels, stride, with_projection):
    # needs no timm: the reference is timm's forward written out above
    planes, width, scales = 64, 26, 4
    state = timm_res2net_block_state(in_channels, planes, width, scales, with_projection, seed=1)
    block = RefineBottleneck(in_channels, planes * 4, stride=stride, scales=scales,
                             base_width=26,
                             downsample=projection(in_channels, planes * 4, stride)
                             if with_projection else None).eval()
    block.load_state_dict(convert_timm_res2net(state), strict=True)
    x = torch.randn(2, in_channels, 16, 12)
    expected = timm_order_forward(state, x, width, scales, stride, with_projection)
    torch.testing.assert_close(block(x), expected, atol=1e-5, rtol=0)
    # the group rotation matters: the unconverted weights compute another function
    block.load_state_dict(state, strict=True)
    assert (block(x) - expected).abs().max() > 1e-2


def test_refine_resnet_matches_timm_res2net50(tmp_path):
    torch.manual_seed(0)
    reference = randomize_norms(timm.create_model('res2net50_26w_4s', pretrained=False)).eval()
    ours = RefineResNet(depth=50, scales=4, base_width=26, spatial_attention=False,
                        channel_attention=False, out_indices=(0, 1, 2, 3))
    ours.eval()  # MMPose's ResNet.train() returns None, so no chaining
    ours.load_state_dict(convert_timm_res2net(reference.state_dict()), strict=True)
    # float64: the group rotation changes the summation order, which float32 rounding amplifies
    # through 16 random-init blocks
    reference.double()
    ours.double()
    x = torch.randn(1, 3, 64, 64, dtype=torch.float64)
    with torch.no_grad():
        y = reference.maxpool(reference.act1(reference.bn1(reference.conv1(x))))
        for feature, layer in zip(ours(x), [reference.layer1, reference.layer2, reference.layer3,
                                             reference.layer4]):
            y = layer(y)
            torch.testing.assert_close(feature, y, atol=1e-8, rtol=1e-8)

    # the Pretrained init_cfg path converts the checkpoint and leaves the attention at init
    checkpoint = tmp_path / 'res2net50_26w_4s.pth'
    torch.save(reference.float().state_dict(), checkpoint)
    attended = RefineResNet(depth=50, init_cfg=dict(type='Pretrained', checkpoint=str(checkpoint)))
    attention_before = attended.layer3[2].spatial_attention.weight.clone()
    attended.init_weights()
    converted = convert_timm_res2net(reference.state_dict())
    for key, value in attended.state_dict().items():
        if key in converted:
            torch.testing.assert_close(value, converted[key], atol=0, rtol=0)
    torch.testing.assert_close(attended.layer3[2].spatial_attention.weight, attention_before)


def test_refine_resnet_interface_and_gradients():
    torch.manual_seed(0)
    net = RefineResNet(depth=50, out_indices=(0, 1, 2, 3), frozen_stages=1)
    out = net(torch.randn(2, 3, 64, 48))
    assert [tuple(f.shape) for f in out] == [(2, 256, 16, 12), (2, 512, 8, 6),
                                             (2, 1024, 4, 3), (2, 2048, 2, 2)]
    sum(f.square().mean() for f in out).backward()
    frozen = [n for n, p in net.named_parameters() if n.startswith(('conv1', 'bn1', 'layer1.'))]
    assert frozen and all(not net.get_parameter(n).requires_grad for n in frozen)
    trainable = [(n, p) for n, p in net.named_parameters() if p.requires_grad]
    no_grad = [n for n, p in trainable if p.grad is None or not p.grad.abs().sum() > 0]
    assert not no_grad, no_grad
    assert RefineResNet(depth=101).layer3.__len__() == 23
    with pytest.raises(KeyError, match='RefineResNet'):
        RefineResNet(depth=34)


def test_attention_is_spatial_then_channel_on_the_residual():
    """Block output = relu(SE(r * sigmoid(conv(r))) + x), r the residual without attention."""
    torch.manual_seed(0)
    block = randomize_norms(RefineBottleneck(256, 256, scales=4, base_width=26,
                                             spatial_attention=True,
                                             channel_attention=True)).eval()
    nn.init.normal_(block.spatial_attention.weight, std=0.05)
    x = torch.randn(1, 256, 8, 6)
    plain = RefineBottleneck(256, 256, scales=4, base_width=26).eval()
    plain.load_state_dict(block.state_dict(), strict=False)

    residual = plain._residual(x)
    gate = block.spatial_attention
    gated = residual * torch.sigmoid(F.conv2d(residual, gate.weight, gate.bias,
                                                padding=gate.kernel_size[0] // 2))
    se = block.channel_attention
    scale = torch.sigmoid(se.conv2.conv(F.relu(se.conv1.conv(gated.mean((2, 3), keepdim=True)))))
    with torch.no_grad():
        torch.testing.assert_close(block(x), F.relu(gated * scale + x), atol=1e-5, rtol=1e-5)
        assert not torch.allclose(block(x), plain(x), atol=1e-3)


@pytest.mark.parametrize('batch,channels,size', [(1, 104, (16, 12)), (2, 26, (9, 7))])
def test_split_conv_equals_a_plain_conv_and_traces_as_one(batch, channels, size):
    torch.manual_seed(0)
    conv = SplitConv2d(channels, channels, 3, padding=1, bias=False)
    x = torch.randn(batch, channels, *size, requires_grad=True)
    out = conv(x)
    if torch.backends.mkldnn.is_available():  # the batch-1 case is the one PyTorch would not
        assert out.grad_fn.name() == 'MkldnnConvolutionBackward0'
    plain_out = F.conv2d(x, conv.weight, padding=1)
    torch.testing.assert_close(out, plain_out, atol=1e-4, rtol=1e-5)
    grad = torch.randn_like(out)
    grads = torch.autograd.grad(out, (x, conv.weight), grad)
    plain_grads = torch.autograd.grad(plain_out, (x, conv.weight), grad)
    for ours, reference in zip(grads, plain_grads):
        torch.testing.assert_close(ours, reference, atol=1e-3, rtol=1e-4)
    with torch.no_grad():
        traced = torch.jit.trace(conv, x.detach())
    assert 'mkldnn_convolution' not in str(traced.graph)


def test_refine_block_compiles_as_one_graph():
    """``torch.compile`` (MMEngine's ``compile=True``, the fast path's inductor) must trace the
    whole block: the split convs' oneDNN dispatch once broke the graph at every float32 block
    and then failed on the compiler's fake tensors."""
    torch.manual_seed(0)
    block = randomize_norms(RefineBottleneck(64, 64, scales=4, base_width=26,
                                             spatial_attention=True, channel_attention=True))
    block.eval()
    x = torch.randn(1, 64, 12, 9)
    torch._dynamo.reset()
    compiled = torch.compile(block, fullgraph=True, backend='eager')
    with torch.no_grad():
        torch.testing.assert_close(compiled(x), block(x))


@pytest.mark.parametrize('kernel_size,size', [(7, (16, 12)), (3, (5, 9)), (7, (3, 2))])
def test_spatial_gate_conv_equals_a_plain_conv(kernel_size, size):
    torch.manual_seed(0)
    gate = SpatialGateConv(32, kernel_size)
    nn.init.normal_(gate.weight, std=0.05)
    nn.init.normal_(gate.bias)
    x = torch.randn(2, 32, *size, requires_grad=True)
    plain_x = x.detach().clone().requires_grad_(True)
    out = gate(x)
    plain_out = F.conv2d(plain_x, gate.weight, gate.bias, padding=kernel_size // 2)
    torch.testing.assert_close(out, plain_out, atol=1e-5, rtol=1e-5)
    grad = torch.randn_like(out)
    out.backward(grad)
    weight_grad = gate.weight.grad.clone()
    gate.weight.grad = None
    plain_out = F.conv2d(plain_x, gate.weight, gate.bias, padding=kernel_size // 2)
    plain_out.backward(grad)
    torch.testing.assert_close(x.grad, plain_x.grad, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(weight_grad, gate.weight.grad, atol=1e-4, rtol=1e-5)
    assert list(gate.state_dict()) == ['weight', 'bias']


@pytest.mark.parametrize('build', [
    lambda: RefineResNet(depth=50),
    lambda: MultiStageRefineNet(block='RefineBottleneck', num_stages=2, num_units=3,
                                num_blocks=(1, 1, 1), unit_channels=32, base_channels=16),
], ids=['RefineResNet', 'MultiStageRefineNet'])
def test_default_init_leaves_every_spatial_gate_half_open(build):
    """The backbones' Kaiming init_cfg also matches the gates as convs; a gate drawn that way
    saturates (most values near 0 or 1, where no gradient passes)."""
    torch.manual_seed(0)
    net = build()
    net.init_weights()
    gates = [m for m in net.modules() if isinstance(m, SpatialGateConv)]
    assert gates
    for gate in gates:
        values = torch.sigmoid(gate(torch.randn(2, gate.in_channels, 8, 6)))
        torch.testing.assert_close(values, torch.full_like(values, 0.5))
    # the rest of the convs did get the Kaiming init (std sqrt(2 / fan_out))
    stem_conv = next(m for m in net.modules() if isinstance(m, nn.Conv2d))
    fan_out = stem_conv.out_channels * stem_conv.kernel_size[0] * stem_conv.kernel_size[1]
    assert stem_conv.weight.std().item() == pytest.approx((2 / fan_out) ** 0.5, rel=0.1)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match='scales'):
        RefineBottleneck(64, 256, scales=0)
    with pytest.raises(ValueError, match='base_width'):
        RefineBottleneck(64, 8, scales=4, base_width=8)

"""MultiStageRefineNet + MultiStageRefineHead: MSPN equivalence, shapes, grads, ImageNet init."""
from pathlib import Path

import mmpose
import pytest
import timm
import torch
import torchvision
from mmengine.config import Config
from mmengine.structures import InstanceData, PixelData
from mmpose.models.backbones import MSPN
from mmpose.models.heads import MSPNHead
from mmpose.registry import MODELS
from mmpose.structures import PoseDataSample

from refine_plugin.models.backbones import MultiStageRefineNet
from refine_plugin.models.backbones.res2net_conversion import convert_timm_res2net
from refine_plugin.models.heads import MultiStageRefineHead
from test_refine_bottleneck import randomize_norms

MMPOSE_MSPN_CONFIG = (Path(mmpose.__file__).parent / '.mim/configs/body_2d_keypoint/'
                      'topdown_heatmap/coco/td-hm_4xmspn50_8xb32-210e_coco-256x192.py')
SMALL = dict(num_stages=2, num_units=4, num_blocks=[1, 1, 1, 1], unit_channels=32,
             base_channels=16)


def test_bottleneck_version_is_mmpose_4xmspn50():
    torch.manual_seed(0)
    reference = randomize_norms(MSPN(num_stages=4, num_units=4, num_blocks=[3, 4, 6, 3]))
    ours = MultiStageRefineNet(block='Bottleneck', num_stages=4, num_units=4,
                               num_blocks=[3, 4, 6, 3])
    assert (sum(p.numel() for p in ours.parameters())
            == sum(p.numel() for p in reference.parameters()))
    ours.load_state_dict(reference.state_dict(), strict=True)
    reference.eval()
    ours.eval()
    x = torch.randn(1, 3, 64, 48)
    with torch.no_grad():
        expected, actual = reference(x), ours(x)
    assert len(actual) == 4
    for stage_expected, stage_actual in zip(expected, actual):
        for e, a in zip(stage_expected, stage_actual):
            torch.testing.assert_close(a, e, atol=1e-5, rtol=0)


def test_head_defaults_are_mmpose_mspn_supervision():
    mspn_head_cfg = Config.fromfile(str(MMPOSE_MSPN_CONFIG)).model.head
    head = MultiStageRefineHead(num_stages=4, num_units=4)
    assert head.level_indices == mspn_head_cfg.level_indices
    for ours, theirs in zip(head.loss_module, mspn_head_cfg.loss):
        assert type(ours).__name__ == theirs['type']
        assert ours.loss_weight == theirs['loss_weight']
    reference = MSPNHead(**{k: v for k, v in mspn_head_cfg.items() if k != 'type'})
    head.load_state_dict(reference.state_dict(), strict=True)


@pytest.mark.parametrize('input_size', [(256, 192), (384, 288)])
def test_feature_and_heatmap_shapes(input_size):
    height, width = input_size
    net = MultiStageRefineNet(num_stages=4, num_units=4, num_blocks=[1, 1, 1, 1],
                              unit_channels=32, base_channels=16)
    net.eval()  # MMPose's BaseBackbone.train() returns None, so no chaining
    head = MultiStageRefineHead(num_stages=4, num_units=4, unit_channels=32,
                                out_shape=(height // 4, width // 4), out_channels=17).eval()
    with torch.no_grad():
        feats = net(torch.randn(1, 3, height, width))
        heatmaps = head(feats)
    assert len(feats) == 4
    for stage in feats:
        assert [tuple(f.shape) for f in stage] == [
            (1, 32, height // s, width // s) for s in (32, 16, 8, 4)]
    assert len(heatmaps) == 16
    assert all(tuple(h.shape) == (1, 17, height // 4, width // 4) for h in heatmaps)


def test_full_size_refine50_shapes():
    net = MultiStageRefineNet(num_stages=1)
    net.eval()
    with torch.no_grad():
        feats = net(torch.randn(1, 3, 256, 192))
    assert [tuple(f.shape) for f in feats[0]] == [
        (1, 256, 8, 6), (1, 256, 16, 12), (1, 256, 32, 24), (1, 256, 64, 48)]


def multilevel_sample(num_levels, out_shape, seed):
    generator = torch.Generator().manual_seed(seed)
    sample = PoseDataSample(metainfo=dict(flip_indices=list(range(17))))
    sample.gt_instance_labels = InstanceData(keypoint_weights=torch.ones(num_levels, 1, 17))
    sample.gt_fields = [PixelData(heatmaps=torch.rand(17, *out_shape, generator=generator))
                        for _ in range(num_levels)]
    return sample


@pytest.mark.parametrize('block', ['RefineBottleneck', 'Bottleneck'])
def test_every_parameter_gets_a_gradient(block):
    torch.manual_seed(0)
    net = MultiStageRefineNet(block=block, **SMALL)
    head = MultiStageRefineHead(num_stages=2, num_units=4, unit_channels=32, out_shape=(32, 24))
    samples = [multilevel_sample(5, (32, 24), seed) for seed in range(2)]
    losses = head.loss(net(torch.randn(2, 3, 128, 96)), samples)
    losses['loss_kpt'].backward()
    missing = [name for module in (net, head) for name, p in module.named_parameters()
               if p.grad is None or not p.grad.abs().sum() > 0]
    assert not missing, missing


def test_later_stages_use_the_cross_stage_features():
    """The default (RefineBottleneck) network wires its stages as MSPN does, spelled out here:
    stage 2's encoder starts from stage 1's cross-stage feature and adds both of stage 1's skip
    features to each of its levels (finest first)."""
    torch.manual_seed(0)
    net = MultiStageRefineNet(**SMALL)
    randomize_norms(net)
    net.eval()
    x = torch.randn(1, 3, 128, 96)
    first, second = net.multi_stage_mspn
    with torch.no_grad():
        feats = net(x)
        outs1, skips1, skips2, cross = first.upsample(first.downsample(net.top(x)))
        levels, h = [], cross
        for level in range(4):
            h = getattr(second.downsample, f'layer{level + 1}')(h) + skips1[level] + skips2[level]
            levels.append(h)
        outs2 = second.upsample(levels[::-1])[0]
    assert len(feats) == 2
    for actual, expected in zip(feats[0] + feats[1], outs1 + outs2):
        torch.testing.assert_close(actual, expected, atol=1e-5, rtol=0)


def test_torchvision_resnet50_initialises_stem_and_every_encoder(tmp_path):
    resnet = torchvision.models.resnet50()
    checkpoint = tmp_path / 'resnet50.pth'
    torch.save(resnet.state_dict(), checkpoint)
    net = MultiStageRefineNet(block='Bottleneck', num_stages=2,
                              init_cfg=dict(type='Pretrained', checkpoint=str(checkpoint)))
    net.init_weights()
    source = resnet.state_dict()
    torch.testing.assert_close(net.top.top[0].conv.weight, source['conv1.weight'])
    torch.testing.assert_close(net.top.top[0].bn.running_var, source['bn1.running_var'])
    for stage in net.multi_stage_mspn:
        encoder = stage.downsample
        torch.testing.assert_close(encoder.layer3[5].conv2.weight, source['layer3.5.conv2.weight'])
        torch.testing.assert_close(encoder.layer2[0].downsample.conv.weight,
                                   source['layer2.0.downsample.0.weight'])
        torch.testing.assert_close(encoder.layer4[0].downsample.bn.bias,
                                   source['layer4.0.downsample.1.bias'])


def test_timm_res2net50_initialises_refine_encoders(tmp_path):
    torch.manual_seed(0)
    res2net = randomize_norms(timm.create_model('res2net50_26w_4s', pretrained=False)).eval()
    checkpoint = tmp_path / 'res2net50_26w_4s.pth'
    torch.save(res2net.state_dict(), checkpoint)
    net = MultiStageRefineNet(block='RefineBottleneck', num_stages=1, spatial_attention=False,
                              channel_attention=False,
                              init_cfg=dict(type='Pretrained', checkpoint=str(checkpoint)))
    net.init_weights()
    net.eval()
    res2net.double()
    net.double()  # float64: see test_refine_resnet_matches_timm_res2net50
    x = torch.randn(1, 3, 64, 64, dtype=torch.float64)
    with torch.no_grad():
        y = res2net.maxpool(res2net.act1(res2net.bn1(res2net.conv1(x))))
        levels = net.multi_stage_mspn[0].downsample(net.top(x))[::-1]
        for level, layer in zip(levels, [res2net.layer1, res2net.layer2, res2net.layer3,
                                         res2net.layer4]):
            y = layer(y)
            torch.testing.assert_close(level, y, atol=1e-8, rtol=1e-8)
    assert 'layer1.0.convs.0.weight' in convert_timm_res2net(res2net.state_dict())


def test_registered_and_bad_arguments_are_named():
    net = MODELS.build(dict(type='MultiStageRefineNet', **SMALL))
    assert isinstance(net, MultiStageRefineNet)
    with pytest.raises(ValueError, match="'Basic'"):
        MultiStageRefineNet(block='Basic')
    with pytest.raises(ValueError, match='num_blocks'):
        MultiStageRefineNet(num_units=3, num_blocks=[1, 1, 1, 1])

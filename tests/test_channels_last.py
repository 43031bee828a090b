"""ChannelsLastPoseDataPreprocessor: the same losses, gradients and heatmaps as MMPose's
PoseDataPreprocessor, with the network running in NHWC and gradients in their parameters' layout."""
import copy
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.registry import init_default_scope
from mmpose.registry import DATASETS, MODELS

import refine_plugin  # noqa: F401

REPO = Path(__file__).resolve().parents[1]
CONFIG = REPO / 'configs/cpu/td-hm_2xrefine-tiny_1xb16-18e_synthetic-64x48.py'


def train_batch(cfg, data, batch_size=4):
    """Packed samples of the generated train split through the config's train pipeline."""
    dataset_cfg = copy.deepcopy(cfg.train_dataloader.dataset)
    dataset_cfg.update(data_root='', ann_file=data['train_ann'],
                       data_prefix=dict(img=data['train_img']))
    dataset = DATASETS.build(dataset_cfg)
    return pseudo_collate([dataset[i] for i in range(batch_size)])


@pytest.fixture(scope='module')
def models(tiny_coco):
    init_default_scope('mmpose')
    cfg = Config.fromfile(str(CONFIG))
    assert cfg.model.data_preprocessor.type == 'ChannelsLastPoseDataPreprocessor'
    torch.manual_seed(0)
    nhwc = MODELS.build(cfg.model)
    nhwc.init_weights()
    nchw = copy.deepcopy(nhwc)
    nchw.data_preprocessor = MODELS.build(
        dict(cfg.model.data_preprocessor, type='PoseDataPreprocessor'))
    return nchw, nhwc, train_batch(cfg, tiny_coco)


def test_inputs_and_features_are_channels_last(models):
    nchw, nhwc, batch = models
    plain = nchw.data_preprocessor(copy.deepcopy(batch), True)['inputs']
    inputs = nhwc.data_preprocessor(copy.deepcopy(batch), True)['inputs']
    assert inputs.is_contiguous(memory_format=torch.channels_last)
    assert not plain.is_contiguous(memory_format=torch.channels_last)
    torch.testing.assert_close(inputs, plain, rtol=0, atol=0)
    with torch.no_grad():
        features = nhwc.eval().backbone(inputs)
    # the last stage's last unit: NHWC all the way through both stages
    assert features[-1][-1].is_contiguous(memory_format=torch.channels_last)


def test_same_losses_gradients_and_heatmaps(models):
    nchw, nhwc, batch = models
    grads = []
    for model in (nchw, nhwc):
        model.train()
        model.zero_grad()
        data = model.data_preprocessor(copy.deepcopy(batch), True)
        losses = model(**data, mode='loss')
        losses['loss_kpt'].backward()
        grads.append({name: p.grad for name, p in model.named_parameters()})
        if model is nchw:
            reference_loss = losses['loss_kpt'].item()
    torch.testing.assert_close(losses['loss_kpt'].item(), reference_loss, rtol=1e-5, atol=0)
    scale = max(grad.abs().max() for grad in grads[0].values())
    for name, reference in grads[0].items():
        grad = grads[1][name]
        # autograd keeps each gradient in its (NCHW) parameter's layout: what DDP's buckets expect
        assert grad.is_contiguous(), name
        # against the largest gradient: the predictors' BN biases shift every logit of a map alike,
        # which the softmax ignores, so their gradients are rounding noise (~1e-8) in both layouts
        torch.testing.assert_close(grad, reference, rtol=0, atol=1e-5 * scale, msg=name)

    heatmaps = []
    for model in (nchw, nhwc):
        model.eval()
        with torch.no_grad():
            data = model.data_preprocessor(copy.deepcopy(batch), False)
            heatmaps.append(model(**data, mode='tensor'))
    # every unit's heatmaps; decoded keypoints are no test here, since DARK's second derivatives of
    # an untrained model's flat maps magnify rounding to a tenth of a pixel
    assert len(heatmaps[1]) == len(heatmaps[0]) > 1
    for result, reference in zip(*heatmaps):
        torch.testing.assert_close(result, reference, rtol=0, atol=1e-5 * reference.abs().max())

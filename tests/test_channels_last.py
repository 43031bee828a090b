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
CONFIG = REPO / 'configs/cpu/td-hm_2xrefine-tiny_1xb16-22e_synthetic-64x48.py'


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


def loss_and_gradients(model, batch, dtype):
    """The train loss and every parameter's gradient of one batch, the model cast to ``dtype``."""
    model = copy.deepcopy(model).to(dtype).train()
    data = model.data_preprocessor(copy.deepcopy(batch), True)
    data['inputs'] = data['inputs'].to(dtype)  # keeps the memory format
    for sample in data['data_samples']:
        for level in sample.gt_fields:
            level.heatmaps = level.heatmaps.to(dtype)
        labels = sample.gt_instance_labels
        labels.keypoint_weights = labels.keypoint_weights.to(dtype)
    loss = model(**data, mode='loss')['loss_kpt']
    loss.backward()
    return loss.item(), {name: p.grad for name, p in model.named_parameters()}


def relative_error(grads, reference):
    difference = torch.cat([(grads[n] - g).flatten() for n, g in reference.items()])
    return (difference.norm() / torch.cat([g.flatten() for g in reference.values()]).norm()).item()


def test_same_losses_and_gradients(models):
    nchw, nhwc, batch = models
    # In float64 the network's arithmetic is the same in both layouts up to the order of sums.
    reference_loss, reference = loss_and_gradients(nchw, batch, torch.float64)
    loss, grads = loss_and_gradients(nhwc, batch, torch.float64)
    assert loss == pytest.approx(reference_loss, rel=1e-12)
    scale = max(grad.abs().max() for grad in reference.values())
    for name, grad in grads.items():
        # autograd keeps each gradient in its (NCHW) parameter's layout: what DDP's buckets expect
        assert grad.is_contiguous(), name
        torch.testing.assert_close(grad, reference[name], rtol=0, atol=1e-10 * scale, msg=name)
    # In float32 (oneDNN's kernels, NHWC or blocked) both layouts stay near float64. Measured on
    # four batches: a relative error of 2e-6 in either, or up to 6e-4 in one of them on a batch
    # where rounding flips a discrete choice (a ReLU or a pooling maximum at a tie); a layout bug
    # would be of order 1.
    for model in (nchw, nhwc):
        loss, grads = loss_and_gradients(model, batch, torch.float32)
        assert loss == pytest.approx(reference_loss, rel=1e-5)
        assert relative_error(grads, reference) < 1e-2


def test_same_heatmaps(models):
    nchw, nhwc, batch = models
    heatmaps = []
    for model in (nchw, nhwc):
        model.eval()
        with torch.no_grad():
            data = model.data_preprocessor(copy.deepcopy(batch), False)
            heatmaps.append(model(**data, mode='tensor'))
    # every unit's heatmaps; decoded keypoints are no test here, since the sub-pixel refinement's
    # second derivatives of an untrained model's flat maps magnify rounding to a tenth of a pixel
    assert len(heatmaps[1]) == len(heatmaps[0]) > 1
    for result, reference in zip(*heatmaps):
        torch.testing.assert_close(result, reference, rtol=0, atol=1e-5 * reference.abs().max())

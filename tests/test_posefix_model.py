"""PoseFix refiner: input-pose rendering, the 3+K-channel stem, crops, dataset, training."""
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import MAIN_JOB_CONFIG, MAIN_JOB_POSE_CONFIG
from mmengine.config import Config
from mmengine.dataset import Compose, pseudo_collate

import refine_plugin  # noqa: F401
from mmpose.registry import DATASETS, MODELS
from mmpose.utils import register_all_modules
from refine_plugin.models.pose_estimators.pose_heatmap_rendering import render_pose_heatmaps
from refine_plugin.models.pose_estimators.posefix_refiner import PoseFixRefiner

CONFIGS = Path(__file__).resolve().parents[1] / 'configs'
CPU_CONFIG = CONFIGS / 'posefix' / 'posefix_res18-c32_1xb32-30e_synthetic-128x96.py'
COCO_FLIP = [0, 2, 1, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11, 14, 13, 16, 15]

register_all_modules()


def _cpu_config() -> Config:
    return Config.fromfile(str(CPU_CONFIG))


def test_rendering_equals_per_joint_gaussians():
    rng = np.random.default_rng(0)
    keypoints = rng.uniform(-5, 30, size=(2, 17, 2))
    keypoints[0, 3] = (7, 11)  # an exact pixel: peak 1
    visible = (rng.random((2, 17)) > 0.2).astype(np.float32)
    visible[0, 3] = 1
    sigma, (w, h) = 2.5, (24, 32)
    rendered = render_pose_heatmaps(torch.tensor(keypoints), torch.tensor(visible), (w, h), sigma)
    expected = np.zeros((2, 17, h, w))
    for b in range(2):
        for k in range(17):
            if visible[b, k] > 0:
                for y in range(h):
                    for x in range(w):
                        d2 = (x - keypoints[b, k, 0])**2 + (y - keypoints[b, k, 1])**2
                        expected[b, k, y, x] = np.exp(-d2 / (2 * sigma**2))
    np.testing.assert_allclose(rendered.numpy(), expected, atol=1e-6)
    assert rendered[0, 3, 11, 7] == pytest.approx(1.0)


def test_flipped_input_is_the_rendering_of_the_mirrored_pose():
    rng = np.random.default_rng(1)
    w, h = 24, 32
    keypoints = torch.tensor(rng.uniform(0, 23, size=(1, 17, 2)), dtype=torch.float32)
    visible = torch.ones(1, 17)
    image = torch.tensor(rng.random((1, 3, h, w)), dtype=torch.float32)
    inputs = torch.cat([image, render_pose_heatmaps(keypoints, visible, (w, h), 2.0)], dim=1)
    mirrored = keypoints[:, COCO_FLIP].clone()
    mirrored[..., 0] = w - 1 - mirrored[..., 0]
    flipped = PoseFixRefiner.flip_input(inputs, COCO_FLIP)
    torch.testing.assert_close(flipped[:, :3], image.flip(-1))
    torch.testing.assert_close(flipped[:, 3:], render_pose_heatmaps(mirrored, visible, (w, h), 2.0))


def test_pretrained_stem_fills_image_channels_and_zeroes_pose_channels(tmp_path):
    """A 3-channel ImageNet-style checkpoint (made here) initialises the 3+K-channel backbone."""
    torch.manual_seed(0)
    imagenet = MODELS.build(dict(type='ResNet', depth=18, stem_channels=32, base_channels=32))
    checkpoint = tmp_path / 'resnet18_imagenet_style.pth'
    torch.save(imagenet.state_dict(), checkpoint)  # torchvision's layout: a bare state dict
    cfg = _cpu_config()
    cfg.model.backbone.init_cfg = dict(type='Pretrained', checkpoint=str(checkpoint))
    refiner = MODELS.build(cfg.model)
    refiner.init_weights()
    stem = refiner.backbone.conv1.weight.detach()
    assert stem.shape[1] == 3 + 17
    torch.testing.assert_close(stem[:, :3], imagenet.conv1.weight)
    assert torch.count_nonzero(stem[:, 3:]) == 0
    torch.testing.assert_close(refiner.backbone.layer3[1].conv2.weight,
                               imagenet.layer3[1].conv2.weight)


def test_refiner_from_a_pose_model_starts_as_that_model(tmp_path):
    """The main job's refiner, initialised from a trained pose model's checkpoint (made here,
    with BN statistics away from their defaults), gives that model's heatmaps whatever the input
    pose, until fine-tuning teaches it to use the pose."""
    torch.manual_seed(0)
    pose_model = MODELS.build(Config.fromfile(str(MAIN_JOB_POSE_CONFIG)).model)
    pose_model.init_weights()
    for module in pose_model.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_mean.uniform_(-0.5, 0.5)
            module.running_var.uniform_(0.5, 2.0)
    checkpoint = tmp_path / 'pose_model.pth'
    torch.save(dict(state_dict=pose_model.state_dict()), checkpoint)
    cfg = Config.fromfile(str(MAIN_JOB_CONFIG))
    cfg.model.init_cfg.checkpoint = str(checkpoint)
    refiner = MODELS.build(cfg.model)
    refiner.init_weights()
    stem = refiner.backbone.top.top[0].conv.weight.detach()
    assert torch.count_nonzero(stem[:, 3:]) == 0
    image = torch.randn(2, 3, 96, 72)
    pose_channels = torch.rand(2, 17, 96, 72)
    pose_model.eval()
    refiner.eval()
    with torch.no_grad():
        expected = pose_model._forward(image)
        refined = refiner._forward(torch.cat([image, pose_channels], dim=1))
    assert len(refined) == len(expected)
    for ours, theirs in zip(refined, expected):
        torch.testing.assert_close(ours, theirs, rtol=0, atol=0)


def test_stem_with_wrong_channel_count_is_rejected():
    cfg = _cpu_config()
    cfg.model.backbone.in_channels = 3
    with pytest.raises(ValueError, match=r'conv1.*3 channels.*17 pose'):
        MODELS.build(cfg.model)


def test_input_pose_follows_flip_rotation_and_crop():
    """With the truth as input pose, WarpInputPose must land where TopdownAffine puts keypoints."""
    np.random.seed(3)
    pipeline = Compose([
        dict(type='GetBBoxCenterScale'),
        dict(type='RandomFlip', prob=1.0, direction='horizontal'),
        dict(type='RandomBBoxTransform', rotate_prob=1.0, rotate_factor=40),
        dict(type='TopdownAffine', input_size=(96, 128)),
        dict(type='WarpInputPose')])
    keypoints = np.random.uniform(50, 250, size=(1, 17, 2)).astype(np.float32)
    visible = (np.random.rand(1, 17) > 0.3).astype(np.float32)
    results = pipeline(dict(
        img=np.zeros((300, 320, 3), np.uint8), img_shape=(300, 320),
        bbox=np.array([[40, 40, 260, 260]], np.float32), keypoints=keypoints.copy(),
        keypoints_visible=visible.copy(), input_pose=keypoints.copy(),
        input_pose_visible=visible.copy(), flip_indices=COCO_FLIP))
    assert results['flip'] and results['bbox_rotation'][0] != 0
    np.testing.assert_allclose(results['input_pose'], results['transformed_keypoints'], atol=1e-3)
    np.testing.assert_array_equal(results['input_pose_visible'], results['keypoints_visible'])


def test_bbox_from_input_pose():
    results = dict(input_pose=np.array([[[10, 20], [50, 100], [999, 999]]], np.float32),
                   input_pose_visible=np.array([[1, 1, 0]], np.float32))
    bbox = Compose([dict(type='BBoxFromInputPose', enlarge=1.5)])(results)['bbox']
    np.testing.assert_allclose(bbox, [[0, 0, 60, 120]])
    with pytest.raises(ValueError, match='a.jpg.*no visible'):
        Compose([dict(type='BBoxFromInputPose')])(dict(
            img_path='a.jpg', input_pose=np.zeros((1, 3, 2)), input_pose_visible=np.zeros((1, 3))))


def test_bbox_from_input_pose_keeps_a_given_box_when_asked():
    pose = dict(input_pose=np.array([[[10, 20], [50, 100]]], np.float32),
                input_pose_visible=np.array([[1, 1]], np.float32))
    given = np.array([[5, 6, 70, 140]], np.float32)
    keep = Compose([dict(type='BBoxFromInputPose', enlarge=1.5, keep_given_box=True)])
    np.testing.assert_array_equal(keep(dict(pose, bbox=given.copy()))['bbox'], given)
    # without a box (results that carry none) the pose's extent, as without the option
    np.testing.assert_allclose(keep(dict(pose))['bbox'], [[0, 0, 60, 120]])
    replace = Compose([dict(type='BBoxFromInputPose', enlarge=1.5)])
    np.testing.assert_allclose(replace(dict(pose, bbox=given.copy()))['bbox'], [[0, 0, 60, 120]])


def _tiny_dataset_cfg(cfg, tiny_coco, split='train'):
    dataset = cfg[f'{split}_dataloader'].dataset
    dataset.data_root = tiny_coco['root']
    return dataset


def test_dataset_gives_each_person_the_others_of_its_image(tiny_coco):
    cfg = _cpu_config()
    dataset = DATASETS.build(dict(_tiny_dataset_cfg(cfg, tiny_coco), pipeline=[]))
    with open(tiny_coco['train_ann']) as f:
        anns = json.load(f)['annotations']
    persons = {}
    for ann in anns:
        if ann['num_keypoints'] > 0 and not ann.get('iscrowd', 0):
            persons.setdefault(ann['image_id'], []).append(ann)
    assert len(dataset) == sum(len(p) for p in persons.values())
    for index in range(len(dataset)):
        info = dataset.get_data_info(index)
        others = [a for a in persons[info['img_id']] if a['id'] != info['id']]
        assert info['other_keypoints'].shape == (len(others), 17, 2)
        expected = np.array([a['keypoints'] for a in others], np.float32).reshape(-1, 17, 3)
        np.testing.assert_allclose(info['other_keypoints'], expected[..., :2])
        np.testing.assert_allclose(info['other_areas'], [a['area'] for a in others])


@pytest.mark.parametrize('config, input_shape', [(CPU_CONFIG, (3, 128, 96)),
                                                  (MAIN_JOB_CONFIG, (3, 96, 72))])
def test_training_steps_reduce_the_loss(tiny_coco, config, input_shape):
    """The whole training pipeline feeds the refiner; a few steps on one batch lower its loss."""
    cfg = Config.fromfile(str(config))
    cfg.model.init_cfg = None  # from scratch: no pose model checkpoint here
    torch.manual_seed(0)
    np.random.seed(0)
    dataset = DATASETS.build(_tiny_dataset_cfg(cfg, tiny_coco))
    batch = pseudo_collate([dataset[i] for i in range(min(8, len(dataset)))])
    sample = batch['data_samples'][0]
    assert batch['inputs'][0].shape == input_shape
    assert sample.metainfo['input_pose'].shape == (1, 17, 2)
    refiner = MODELS.build(cfg.model)
    refiner.init_weights()
    optimizer = torch.optim.Adam(refiner.parameters(), lr=1e-3)
    losses = []
    for _ in range(6):
        data = refiner.data_preprocessor(batch, training=True)
        loss = sum(v for k, v in refiner.loss(**data).items() if k.startswith('loss'))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert np.isfinite(losses).all() and losses[-1] < losses[0]

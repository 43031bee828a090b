"""EnsemblePoseEstimator: equivalence with its members, the common heatmap frame, tools/test.py."""
import copy
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import assert_same_keypoint_results
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.registry import init_default_scope

import refine_plugin  # noqa: F401
from mmpose.apis import init_model
from mmpose.registry import DATASETS, KEYPOINT_CODECS, MODELS
from refine_plugin.models.pose_estimators.ensemble import resample_in_frame

REPO_ROOT = Path(__file__).resolve().parents[1]
NORMALISATION = dict(
    type='PoseDataPreprocessor', mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True)


def tiny_codec(input_size):
    width, height = input_size
    return dict(type='MSRAHeatmap', input_size=(width, height),
                heatmap_size=(width // 4, height // 4), sigma=2)


def tiny_topdown_config(data_root, ann_file, input_size=(96, 128), img_prefix='',
                        bbox_file=None):
    """A small ResNet-18 top-down model config over a COCO-format set (inputs divisible by 32)."""
    codec = tiny_codec(input_size)
    pipeline = [dict(type='LoadImage'), dict(type='GetBBoxCenterScale'),
                dict(type='TopdownAffine', input_size=codec['input_size']),
                dict(type='PackPoseInputs')]
    dataset = dict(type='CocoDataset', data_root=str(data_root), data_mode='topdown',
                   ann_file=str(ann_file), data_prefix=dict(img=img_prefix), test_mode=True,
                   bbox_file=bbox_file, pipeline=pipeline)
    dataloader = dict(batch_size=8, num_workers=0, drop_last=False,
                      sampler=dict(type='DefaultSampler', shuffle=False, round_up=False),
                      dataset=dataset)
    train_pipeline = pipeline[:3] + [dict(type='GenerateTarget', encoder=codec),
                                     dict(type='PackPoseInputs')]
    train_dataloader = dict(
        batch_size=8, num_workers=0, sampler=dict(type='DefaultSampler', shuffle=True),
        dataset=dict(dataset, bbox_file=None, test_mode=False, pipeline=train_pipeline))
    return dict(
        default_scope='mmpose',
        custom_imports=dict(imports=['refine_plugin'], allow_failed_imports=False),
        model=dict(
            type='TopdownPoseEstimator', data_preprocessor=NORMALISATION,
            backbone=dict(type='ResNet', depth=18, base_channels=16, stem_channels=16),
            head=dict(type='HeatmapHead', in_channels=128, out_channels=17,
                      deconv_out_channels=(32, 32, 32), deconv_kernel_sizes=(4, 4, 4),
                      loss=dict(type='KeypointMSELoss', use_target_weight=True), decoder=codec),
            test_cfg=dict(flip_test=True, flip_mode='heatmap', shift_heatmap=True)),
        train_dataloader=train_dataloader, val_dataloader=dataloader, test_dataloader=dataloader,
        train_cfg=dict(by_epoch=True, max_epochs=1, val_interval=1),
        optim_wrapper=dict(optimizer=dict(type='Adam', lr=1e-3)),
        val_evaluator=dict(type='CocoMetric', ann_file=str(Path(data_root, ann_file))),
        test_evaluator=dict(type='CocoMetric', ann_file=str(Path(data_root, ann_file))),
        val_cfg=dict(), test_cfg=dict())


def save_random_member(tmp_path, name, config, seed):
    """Write ``config`` as a config file and a checkpoint of a seeded random init of it."""
    config_file = tmp_path / f'{name}.py'
    Config(config).dump(config_file)
    torch.manual_seed(seed)
    init_default_scope('mmpose')
    model = MODELS.build(config['model'])
    model.init_weights()
    checkpoint = tmp_path / f'{name}.pth'
    torch.save({'state_dict': model.state_dict(), 'meta': {}}, checkpoint)
    return str(config_file), str(checkpoint)


def ensemble_config(member_files, input_size, data_config, weights=None):
    members = [dict(config=config, checkpoint=checkpoint) for config, checkpoint in member_files]
    for member, weight in zip(members, weights or []):
        member['weight'] = weight
    config = copy.deepcopy(data_config)
    config['model'] = dict(type='EnsemblePoseEstimator', members=members,
                           codec=tiny_codec(input_size), data_preprocessor=NORMALISATION)
    for loader in ('val_dataloader', 'test_dataloader'):
        config[loader]['dataset']['pipeline'][2]['input_size'] = input_size
    for key in ('train_dataloader', 'train_cfg', 'optim_wrapper'):
        config.pop(key)
    return config


def predict_batch(model, config):
    init_default_scope('mmpose')
    dataset = DATASETS.build(config['test_dataloader']['dataset'])
    batch = pseudo_collate([dataset[i] for i in range(len(dataset))])
    with torch.no_grad():
        samples = model.test_step(batch)
    keypoints = np.concatenate([s.pred_instances.keypoints for s in samples])
    scores = np.concatenate([s.pred_instances.keypoint_scores for s in samples])
    return keypoints, scores


@pytest.fixture(scope='module')
def coco_members(shared_data, tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp('members')
    coco = shared_data / 'coco'
    small = tiny_topdown_config(coco, coco / 'test_coco.json', input_size=(96, 128))
    large = tiny_topdown_config(coco, coco / 'test_coco.json', input_size=(192, 256))
    return dict(small=(small, save_random_member(tmp_path, 'small', small, seed=1)),
                small_other=(small, save_random_member(tmp_path, 'small_other', small, seed=4)),
                large=(large, save_random_member(tmp_path, 'large', large, seed=2)),
                tmp_path=tmp_path)


def build_ensemble(config):
    init_default_scope('mmpose')
    model = MODELS.build(config['model'])
    return model.eval()


def test_one_member_equals_the_member(coco_members):
    config, files = coco_members['small']
    member = init_model(files[0], files[1], device='cpu')
    expected = predict_batch(member, config)
    ensemble = build_ensemble(ensemble_config([files], (96, 128), config))
    actual = predict_batch(ensemble, ensemble_config([files], (96, 128), config))
    assert expected[0].shape == (12, 17, 2)
    np.testing.assert_allclose(actual[0], expected[0], rtol=0, atol=1e-3)
    # relative: an untrained head's heatmaps, hence its scores, are below 1e-8
    np.testing.assert_allclose(actual[1], expected[1], rtol=1e-4, atol=0)


def test_two_identical_members_equal_the_member(coco_members):
    config, files = coco_members['large']
    member = init_model(files[0], files[1], device='cpu')
    expected = predict_batch(member, config)
    # unnormalised weights: summing 1x + 3x the member's heatmaps would give 4x its scores
    twice = ensemble_config([files, files], (192, 256), config, weights=[1, 3])
    actual = predict_batch(build_ensemble(twice), twice)
    np.testing.assert_allclose(actual[0], expected[0], rtol=0, atol=1e-3)
    np.testing.assert_allclose(actual[1], expected[1], rtol=1e-4, atol=0)  # scores < 1e-8


def test_two_members_predict_their_weighted_average_heatmaps(coco_members):
    """Different members, weights [1, 3]: the ensemble decodes 1/4 and 3/4 of their heatmaps."""
    config, files = coco_members['small']
    _, other_files = coco_members['small_other']
    mixed = ensemble_config([files, other_files], (96, 128), config, weights=[1, 3])
    actual = predict_batch(build_ensemble(mixed), mixed)

    # each member's own flip-tested heatmaps, as MMPose's TopdownPoseEstimator outputs them
    init_default_scope('mmpose')
    dataset = DATASETS.build(config['test_dataloader']['dataset'])
    batch = pseudo_collate([dataset[i] for i in range(len(dataset))])
    heatmaps = []
    for member_files in (files, other_files):
        member = init_model(member_files[0], member_files[1], device='cpu')
        member.test_cfg['output_heatmaps'] = True
        with torch.no_grad():
            samples = member.test_step(batch)
        heatmaps.append(np.stack([s.pred_fields.heatmaps.numpy() for s in samples]))
    # the members really differ (relative: untrained heads give heatmaps below 1e-8)
    assert np.abs(heatmaps[0] - heatmaps[1]).max() > 0.1 * np.abs(heatmaps[0]).max()
    codec = KEYPOINT_CODECS.build(tiny_codec((96, 128)))
    expected_keypoints, expected_scores = [], []
    for heatmap, sample in zip(0.25 * heatmaps[0] + 0.75 * heatmaps[1], samples):
        keypoints, scores = codec.decode(heatmap)
        meta = sample.metainfo  # crop frame -> image frame
        expected_keypoints.append(keypoints / meta['input_size'] * meta['input_scale']
                                  + meta['input_center'] - 0.5 * meta['input_scale'])
        expected_scores.append(scores)
    np.testing.assert_allclose(actual[0], np.concatenate(expected_keypoints), rtol=0, atol=1e-3)
    np.testing.assert_allclose(actual[1], np.concatenate(expected_scores), rtol=1e-4, atol=0)


def test_output_heatmaps_and_keypoint_indices_as_any_topdown_model(coco_members):
    """test_cfg's output_heatmaps and output_keypoint_indices work as MMPose's for one model."""
    config, files = coco_members['small']
    full_config = ensemble_config([files], (96, 128), config)
    keypoints, scores = predict_batch(build_ensemble(full_config), full_config)
    selected = [0, 5, 6]
    chosen_config = copy.deepcopy(full_config)
    chosen_config['model']['test_cfg'] = dict(output_heatmaps=True,
                                              output_keypoint_indices=selected)
    ensemble = build_ensemble(chosen_config)
    dataset = DATASETS.build(config['test_dataloader']['dataset'])
    batch = pseudo_collate([dataset[i] for i in range(len(dataset))])
    with torch.no_grad():
        samples = ensemble.test_step(batch)
        averaged = ensemble.average_heatmaps(ensemble.data_preprocessor(batch)['inputs'],
                                             batch['data_samples'])
    np.testing.assert_allclose(np.concatenate([s.pred_instances.keypoints for s in samples]),
                               keypoints[:, selected], rtol=0, atol=1e-4)
    np.testing.assert_allclose(
        np.concatenate([s.pred_instances.keypoint_scores for s in samples]), scores[:, selected],
        rtol=1e-5, atol=0)
    torch.testing.assert_close(torch.stack([s.pred_fields.heatmaps for s in samples]),
                               averaged[:, selected])


def test_mixed_input_sizes_average_heatmaps_in_the_image_frame(coco_members):
    small_config, small_files = coco_members['small']
    large_config, large_files = coco_members['large']
    mixed = ensemble_config([small_files, large_files], (192, 256), large_config,
                            weights=[1, 3])
    ensemble = build_ensemble(mixed)
    init_default_scope('mmpose')
    dataset = DATASETS.build(mixed['test_dataloader']['dataset'])
    batch = ensemble.data_preprocessor(pseudo_collate([dataset[0], dataset[1]]))
    averaged = ensemble(batch['inputs'], batch['data_samples'], mode='tensor')
    assert averaged.shape == (2, 17, 64, 48)

    # the same average built by hand from each member's own flip-tested heatmaps
    def member_heatmaps(member, inputs):
        cfg = dict(member.test_cfg, output_heatmaps=True)
        feats = [member.extract_feat(inputs), member.extract_feat(inputs.flip(-1))]
        _, fields = member.head.predict(feats, batch['data_samples'], test_cfg=cfg)
        return torch.stack([f.heatmaps for f in fields])

    small, large = ensemble.members
    small_inputs = resample_in_frame(batch['inputs'], (128, 96))
    with torch.no_grad():
        expected = (0.25 * resample_in_frame(member_heatmaps(small, small_inputs), (64, 48))
                    + 0.75 * member_heatmaps(large, batch['inputs']))
    # atol relative to the maps' size: an untrained head's heatmaps are below 1e-8
    torch.testing.assert_close(averaged.detach(), expected, rtol=1e-5,
                               atol=1e-6 * expected.abs().max().item())


def test_resampled_heatmap_decodes_to_the_same_image_point():
    """A keypoint encoded by a 96x128 member and resampled to the 192x256 ensemble's heatmap size
    decodes to the same place in the image."""
    small = KEYPOINT_CODECS.build(tiny_codec((96, 128)))
    large = KEYPOINT_CODECS.build(tiny_codec((192, 256)))
    keypoint = np.array([[[36.0, 80.0]]])  # in the 96x128 crop, on a heatmap pixel
    encoded = small.encode(keypoint, np.ones((1, 1)))['heatmaps']
    resampled = resample_in_frame(torch.from_numpy(encoded)[None], (64, 48))[0].numpy()
    decoded, _ = large.decode(resampled)
    np.testing.assert_allclose(decoded[0, 0] / 2, keypoint[0, 0], atol=0.05)
    # the half-pixel-centred resize of F.interpolate would shift it by a quarter heatmap pixel
    shifted = torch.nn.functional.interpolate(
        torch.from_numpy(encoded)[None], size=(64, 48), mode='bilinear')[0].numpy()
    assert abs(large.decode(shifted)[0][0, 0, 0] / 2 - 36.0) > 0.2


def test_members_must_share_aspect_ratio_normalisation_and_keypoints(coco_members):
    config, files = coco_members['small']
    wrong_ratio = ensemble_config([files], (128, 128), config)
    with pytest.raises(ValueError, match='aspect ratio'):
        build_ensemble(wrong_ratio)
    other_norm = ensemble_config([files], (96, 128), config)
    other_norm['model']['data_preprocessor'] = dict(NORMALISATION, bgr_to_rgb=False)
    with pytest.raises(ValueError, match='bgr_to_rgb'):
        build_ensemble(other_norm)
    with pytest.raises(ValueError, match='not supported'):
        build_ensemble(ensemble_config([files], (96, 128), config))(
            torch.zeros(1, 3, 128, 96), [], mode='loss')
    fourteen = copy.deepcopy(config)
    fourteen['model']['head']['out_channels'] = 14
    fourteen_files = save_random_member(coco_members['tmp_path'], 'fourteen', fourteen, seed=5)
    with pytest.raises(ValueError, match='member 1 predicts 14 keypoints, member 0 17'):
        build_ensemble(ensemble_config([files, fourteen_files], (96, 128), config))
    # decoding maps the codec's positions to the image through the crop's size: they must agree
    with pytest.raises(ValueError, match='input_size 96x128, but its test pipeline crops 192x256'):
        build_ensemble(ensemble_config([files], (96, 128), config))(
            torch.zeros(1, 3, 256, 192), None, mode='tensor')
    with pytest.raises(ValueError, match='members flip-test, which reads flip_indices from the '
                       'data samples'):
        build_ensemble(ensemble_config([files], (96, 128), config))(torch.zeros(1, 3, 128, 96))


def test_tools_test_runs_an_ensemble_like_any_model(coco_members, tmp_path):
    """tools/test.py with CocoMetric: a one-member ensemble scores the member's AP."""
    config, files = coco_members['small']
    ensemble_file = tmp_path / 'ensemble.py'
    Config(ensemble_config([files], (96, 128), config)).dump(ensemble_file)
    ensemble_checkpoint = tmp_path / 'ensemble.pth'
    torch.save({'state_dict': build_ensemble(Config.fromfile(ensemble_file)).state_dict()},
               ensemble_checkpoint)

    def coco_ap(config_file, checkpoint, name):
        """tools/test.py's metrics, and the keypoint results CocoMetric scored."""
        out = tmp_path / f'{name}.json'
        subprocess.run([sys.executable, 'tools/test.py', str(config_file), str(checkpoint),
                        '--work-dir', str(tmp_path / name), '--out', str(out), '--cfg-options',
                        f'test_evaluator.outfile_prefix={tmp_path / name}'],
                       cwd=REPO_ROOT, check=True, capture_output=True)
        results = json.loads((tmp_path / f'{name}.keypoints.json').read_text())
        return json.loads(out.read_text()), results

    member_metrics, member_results = coco_ap(files[0], files[1], 'member')
    ensemble_metrics, ensemble_results = coco_ap(ensemble_file, ensemble_checkpoint, 'ensemble')
    assert set(member_metrics) >= {'coco/AP', 'coco/AR'}
    # Untrained models may score AP 0 both ways: the poses themselves must be the member's.
    assert len(member_results) == 12  # the persons with keypoints of test_coco.json
    assert_same_keypoint_results(ensemble_results, member_results)
    assert ensemble_metrics['coco/AP'] == pytest.approx(member_metrics['coco/AP'], abs=1e-6)
    assert ensemble_metrics['coco/AR'] == pytest.approx(member_metrics['coco/AR'], abs=1e-6)

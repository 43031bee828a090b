"""SoftmaxHeatmap decodes spatial-softmax logits, and the softmax cross-entropy is the textbook one."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmpose.codecs import MSRAHeatmap
from mmpose.codecs.utils import generate_unbiased_gaussian_heatmaps
from mmpose.registry import KEYPOINT_CODECS

import refine_plugin  # noqa: F401  (registers the plugin's modules)
from refine_plugin.deploy.ort_pose.decode import ideal_softmax_peak
from refine_plugin.models.heads import HeatmapCrossEntropyLoss

CODEC = dict(type='SoftmaxHeatmap', input_size=(96, 128), heatmap_size=(24, 32), sigma=1.5,
             beta=10.)


def test_logits_below_zero_decode_to_their_peaks():
    codec = KEYPOINT_CODECS.build(dict(CODEC, refinement='quarter'))
    rng = np.random.default_rng(0)
    keypoints = rng.uniform([8, 8], [88, 120], (1, 17, 2)).astype(np.float32)
    heatmaps = codec.encode(keypoints, np.ones((1, 17)))['heatmaps']
    logits = np.log(heatmaps + 1e-12) / codec.beta - 5.0
    assert (logits.reshape(17, -1).max(axis=1) < 0).all()
    decoded, scores = codec.decode(logits)
    # softmax(beta * logits) is the target map normalised: MMPose decodes the target map to the
    # same keypoints (same argmax, same ordering of neighbours)
    plain = MSRAHeatmap(input_size=(96, 128), heatmap_size=(24, 32), sigma=1.5)
    expected, _ = plain.decode(heatmaps)
    np.testing.assert_allclose(decoded, expected, atol=1e-4)
    flat = heatmaps.reshape(17, -1)
    np.testing.assert_allclose(scores[0], flat.max(axis=1) / flat.sum(axis=1)
                               / ideal_softmax_peak(1.5), rtol=1e-4)
    # MMPose's decoder on the raw logits marks every joint missing (location -1)
    raw_keypoints, _ = plain.decode(logits)
    assert (raw_keypoints == -1 * plain.scale_factor).all()


@pytest.mark.parametrize('sigma', [1.1, 1.4, 1.7, 2.0])
def test_targets_peak_at_the_keypoint_for_any_sigma(sigma):
    # MMPose's MSRAHeatmap puts these peaks one pixel up-left unless 3 * sigma is an integer
    codec = KEYPOINT_CODECS.build(dict(CODEC, sigma=sigma))
    rng = np.random.default_rng(1)
    keypoints = rng.uniform([16, 16], [80, 112], (1, 17, 2)).astype(np.float32)
    heatmaps = codec.encode(keypoints, np.ones((1, 17)))['heatmaps']
    peaks = heatmaps.reshape(17, -1).argmax(axis=1)
    peaks = np.stack([peaks % 24, peaks // 24], axis=1)
    np.testing.assert_array_equal(peaks, np.round(keypoints[0] / codec.scale_factor))
    # ideal logits (the loss's minimiser) decode back to the keypoints: exactly with the quadratic
    # refinement, within 0.15 input pixel with DARK, within the quarter-pixel rule's 1.3 px
    logits = np.log(heatmaps + 1e-12) / codec.beta
    np.testing.assert_allclose(codec.decode(logits)[0], keypoints, atol=1e-3)
    dark = KEYPOINT_CODECS.build(dict(CODEC, sigma=sigma, refinement='dark', blur_kernel_size=5))
    assert np.abs(dark.decode(logits)[0] - keypoints).max() < 0.15
    quarter = KEYPOINT_CODECS.build(dict(CODEC, sigma=sigma, refinement='quarter'))
    assert np.linalg.norm(quarter.decode(logits)[0] - keypoints, axis=-1).max() < 1.3


def test_sharp_peaks_near_the_edge_decode_to_the_keypoints():
    """The main job's finest target (sigma 0.45 at 16x12): the quadratic refinement recovers every
    keypoint whose peak is off the map's edge pixels, where DARK leaves the peaks within two
    pixels of the edge on whole pixels and misplaces the others through its blur."""
    codec = KEYPOINT_CODECS.build(dict(CODEC, input_size=(48, 64), heatmap_size=(12, 16),
                                       sigma=0.45))
    dark = KEYPOINT_CODECS.build(dict(CODEC, input_size=(48, 64), heatmap_size=(12, 16),
                                      sigma=0.45, refinement='dark', blur_kernel_size=3))
    rng = np.random.default_rng(3)
    # heatmap pixels 0.6 to 1.4 from the edge: peaks on the second row or column of the map
    keypoints = np.concatenate([rng.uniform([2.4, 2.4], [5.6, 5.6], (8, 2)),
                                rng.uniform([16, 16], [32, 48], (9, 2))])[None]
    keypoints[0, :4, 0] += 36  # the right edge too
    logits = np.log(codec.encode(keypoints)['heatmaps'] + 1e-12) / codec.beta
    np.testing.assert_allclose(codec.decode(logits)[0], keypoints, atol=1e-3)
    dark_error = np.abs(dark.decode(logits)[0] - keypoints)
    assert dark_error[0, :8].max() > 0.5 and dark_error[0, 8:].max() > 0.1


def test_refinement_keeps_edge_and_saddle_peaks_on_their_pixel():
    codec = KEYPOINT_CODECS.build(dict(CODEC, input_size=(48, 64), heatmap_size=(12, 16)))
    logits = np.zeros((2, 16, 12), np.float32)
    logits[0, 0, 5] = 1.  # a peak on the top row: no window around it
    # a peak on a diagonal ridge between deep troughs: the 3x3 quadratic is a saddle there
    logits[1, 6:9, 4:7] = [[0.99, 0.9, -10.], [0.9, 1., 0.95], [-10., 0.9, 0.99]]
    keypoints, _ = codec.decode(logits)
    np.testing.assert_array_equal(keypoints[0], [[20., 0.], [20., 28.]])


def test_unknown_refinement_is_refused():
    with pytest.raises(ValueError, match="'dark'"):
        KEYPOINT_CODECS.build(dict(CODEC, refinement='darkpose'))


@pytest.mark.parametrize('sigma', [0.8, 1.1, 2.0])
def test_scores_are_on_the_heatmap_scale(sigma):
    """A joint predicted exactly like its target on a pixel centre scores 1, as the peak of
    MMPose's heatmap targets does; the same joint predicted twice as wide scores about a quarter."""
    codec = KEYPOINT_CODECS.build(dict(CODEC, sigma=sigma))
    keypoints = np.array([[[40., 60.], [44., 64.]]], np.float32)  # pixel centres at stride 4
    sharp = codec.encode(keypoints, np.ones((1, 2)))['heatmaps']
    wide = KEYPOINT_CODECS.build(dict(CODEC, sigma=2 * sigma)).encode(
        keypoints, np.ones((1, 2)))['heatmaps']
    for heatmaps, expected in ((sharp, 1.0), (wide, 0.25)):
        logits = np.log(heatmaps + 1e-12) / codec.beta
        assert codec.decode(logits)[1][0] == pytest.approx([expected, expected], rel=0.02)


def test_targets_equal_mmposes_unbiased_gaussians():
    """The vectorised targets are MMPose's per-keypoint ones: unlabelled joints, joints far off the
    map (weight 0) and joints just off its edge (a partial Gaussian) included."""
    codec = KEYPOINT_CODECS.build(dict(CODEC, sigma=1.7))
    rng = np.random.default_rng(2)
    keypoints = rng.uniform([-40, -40], [136, 168], (1, 17, 2)).astype(np.float32)
    keypoints[0, :2] = [[-12, 60], [100, 140]]  # off the map by less than 3 sigma
    visible = (rng.random((1, 17)) > 0.2).astype(np.float32)
    encoded = codec.encode(keypoints, visible)
    heatmaps, weights = generate_unbiased_gaussian_heatmaps(
        (24, 32), keypoints / codec.scale_factor, visible, 1.7)
    assert 0 < weights.sum() < visible.sum()  # some joints are off the map, some on it
    np.testing.assert_array_equal(encoded['keypoint_weights'], weights)
    np.testing.assert_allclose(encoded['heatmaps'], heatmaps, rtol=1e-5, atol=1e-7)


def test_softmax_cross_entropy_matches_torch():
    torch.manual_seed(0)
    logits = torch.randn(4, 17, 8, 6)
    target = torch.rand(4, 17, 8, 6)
    target[1, 3] = 0  # a joint without a target, weight 0
    weight = torch.rand(4, 17)
    weight[1, 3] = 0
    loss = HeatmapCrossEntropyLoss(use_softmax=True, beta=10., loss_weight=0.5)
    probabilities = target.flatten(2) / target.flatten(2).sum(dim=2, keepdim=True).clamp_min(1e-8)
    expected_logits = logits.clone().requires_grad_()
    per_joint = F.cross_entropy((10. * expected_logits).flatten(0, 1).flatten(1),
                                probabilities.flatten(0, 1), reduction='none').view(4, 17)
    expected = (per_joint * weight).mean() * 0.5
    logits.requires_grad_()
    actual = loss(logits, target, weight)
    assert actual.item() == pytest.approx(expected.item(), rel=1e-5)
    # training needs the gradient too: a finite loss can still back-propagate NaN from the
    # 0 / 0 of the joint without a target; that joint (weight 0) must get exactly none
    actual.backward()
    expected.backward()
    assert torch.isfinite(logits.grad).all()
    assert (logits.grad[1, 3] == 0).all()
    torch.testing.assert_close(logits.grad, expected_logits.grad, rtol=1e-4, atol=1e-9)

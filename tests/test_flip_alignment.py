"""The flip test's heatmaps of a mirrored crop land where the crop's own heatmaps are.

- ``shift_heatmap='exact'`` puts the flipped-back targets of mirrored keypoints on the keypoints
  (their centroids within 0.005 heatmap pixels); MMPose's whole-pixel shift leaves them 0.25 pixels
  right at stride 4.
- ``MultiStageRefineHead``'s flip test and the deployed ``HeatmapNetwork`` give the same heatmaps.
"""
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmpose.apis import init_model
from mmpose.structures import PoseDataSample

import refine_plugin  # noqa: F401  (registers the plugin's modules)
from refine_plugin.codecs import SoftmaxHeatmap
from refine_plugin.deploy import HeatmapNetwork
from refine_plugin.models.heads.flip_alignment import flip_back_heatmaps, flip_shift_pixels
from test_deploy import REPO_ROOT, randomize_batchnorm

# COCO's mirror keypoints: nose stays, left and right swap
FLIP_INDICES = [0, 2, 1, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11, 14, 13, 16, 15]


def centroids(heatmaps):
    """(x, y) centroid of each (K, H, W) map, in heatmap pixels."""
    heatmaps = heatmaps / heatmaps.sum(axis=(1, 2), keepdims=True)
    height, width = heatmaps.shape[1:]
    return np.stack([(heatmaps.sum(1) * np.arange(width)).sum(1),
                     (heatmaps.sum(2) * np.arange(height)).sum(1)], axis=-1)


@pytest.mark.parametrize('shift_heatmap, offset', [('exact', 0.), (True, 0.25), (False, -0.75)])
def test_flipped_back_targets_of_a_mirrored_crop_lie_on_the_keypoints(shift_heatmap, offset):
    codec = SoftmaxHeatmap(input_size=(48, 64), heatmap_size=(12, 16), sigma=0.8)
    rng = np.random.default_rng(0)
    # five sigmas from the map's edges, so no Gaussian is cut short
    keypoints = rng.uniform((16, 16), (32, 48), size=(1, 17, 2))
    # the mirrored crop shows keypoint k's mirror at column W - 1 - x
    mirrored = keypoints[:, FLIP_INDICES].copy()
    mirrored[..., 0] = 48 - 1 - mirrored[..., 0]
    target = codec.encode(keypoints)['heatmaps']
    flipped_back = flip_back_heatmaps(torch.from_numpy(codec.encode(mirrored)['heatmaps'])[None],
                                      FLIP_INDICES, flip_shift_pixels(shift_heatmap, codec))
    error = centroids(flipped_back[0].numpy()) - centroids(target)
    np.testing.assert_allclose(error[:, 0], offset, atol=5e-3)
    np.testing.assert_allclose(error[:, 1], 0., atol=5e-3)


def test_shift_heatmap_must_be_a_bool_or_exact():
    codec = SoftmaxHeatmap(input_size=(48, 64), heatmap_size=(12, 16), sigma=1.0)
    with pytest.raises(ValueError, match="True, False or 'exact'"):
        flip_shift_pixels('subpixel', codec)


def test_head_flip_test_and_deployed_network_agree_on_the_exact_shift():
    cfg = Config.fromfile(REPO_ROOT / 'configs/cpu/td-hm_2xrefine-tiny_1xb16-22e_synthetic-64x48.py')
    assert cfg.model.test_cfg.shift_heatmap == 'exact'
    torch.manual_seed(0)
    model = init_model(cfg, None, device='cpu')
    with torch.no_grad():
        randomize_batchnorm(model)
    model.eval()
    images = torch.randn(2, 3, 64, 48)
    samples = [PoseDataSample(metainfo=dict(flip_indices=FLIP_INDICES)) for _ in images]
    with torch.no_grad():
        feats = [model.extract_feat(images), model.extract_feat(images.flip(-1))]
        _, fields = model.head.predict(feats, samples,
                                       test_cfg=dict(model.test_cfg, output_heatmaps=True))
        deployed = HeatmapNetwork.from_test_cfg(model, FLIP_INDICES)(images)
        whole_pixel = HeatmapNetwork(model, FLIP_INDICES, flip_shift=1.)(images)
    head_heatmaps = torch.stack([field.heatmaps for field in fields])
    torch.testing.assert_close(deployed, head_heatmaps)
    assert not torch.allclose(whole_pixel, head_heatmaps, atol=1e-3)

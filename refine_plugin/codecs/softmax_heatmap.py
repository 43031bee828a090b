"""SoftmaxHeatmap: Gaussian heatmap targets for a spatial-softmax loss, decoded through a softmax.

A network trained with a spatial-softmax cross-entropy (``HeatmapCrossEntropyLoss`` with
``use_softmax=True``) outputs logits, which are defined only up to a constant per map. MMPose's
heatmap decoders take the maximum of the raw map and treat a maximum <= 0 as "no keypoint"
(location -1), so decoding logits directly throws away every joint whose logits happen to sit below
zero. This codec decodes ``softmax(beta * logits)`` instead: the same argmax, a positive peak, and
as the keypoint score the peak probability over that of the training target (1 for a joint the
network is as sure of as its target), so that scores sit on MMPose's heatmap scale, where
CocoMetric's ``keypoint_score_thr`` (0.2) means what it does for other heatmap models.

The argmax is refined by one Newton step on the logits' 3x3 window around it (the log of the
softmax is ``beta`` times the logits minus a constant per map). MMPose's DARK reads the blurred
map two pixels either side of the peak, and skips peaks within two pixels of the edge: on the sharp
targets and small maps of the CPU configs (sigma 0.45 at 16x12) that cost 0.031-0.033 AP.

Its targets are Gaussians centred at the keypoint's sub-pixel position for every ``sigma``. MMPose's
``MSRAHeatmap`` (``unbiased=False``) cuts a ``2 * 3 * sigma + 1`` patch by integer truncation, which
centres the Gaussian one pixel up and left of the keypoint whenever ``3 * sigma`` is not an integer
(sigma 1.1, 1.4, 1.7, ...): a network trained on those targets predicts every joint a heatmap pixel
up-left (measured on the CPU config: 4 input pixels in x and y).
"""
import numpy as np
from mmpose.codecs import MSRAHeatmap
from mmpose.registry import KEYPOINT_CODECS

# the ONNX Runtime decoders (numpy only) own the softmax and the quadratic refinement, so that
# both decode alike; DARK and the quarter-pixel rule stay MMPose's own
from ..deploy.ort_pose.decode import (check_softmax_refinement, decode_softmax,
                                       ideal_softmax_peak, spatial_softmax)


def gaussian_heatmaps(heatmap_size, keypoints, keypoints_visible, sigma):
    """One instance's sub-pixel Gaussian heatmaps, all keypoints at once.

    The same maps and weights as MMPose's ``generate_unbiased_gaussian_heatmaps`` (unlabelled
    keypoints stay empty, one whose 3-sigma square misses the map gets weight 0), built as outer
    products of a row and a column Gaussian: the per-keypoint loop made target generation the
    costliest step of the CPU config's train pipeline (1.6 of 4 ms per sample).

    Args:
        heatmap_size (tuple): (W, H).
        keypoints (np.ndarray): (K, 2) in heatmap pixels.
        keypoints_visible (np.ndarray): (1, K).
        sigma (float): the Gaussian's sigma in heatmap pixels.

    Returns:
        tuple: heatmaps (K, H, W) float32 and keypoint weights (1, K).
    """
    width, height = heatmap_size
    radius = 3 * sigma
    weights = keypoints_visible.copy()
    labelled = keypoints_visible[0] >= 0.5
    reaches_map = ((keypoints - radius < (width, height)).all(-1)
                   & (keypoints + radius + 1 >= 0).all(-1))
    weights[0, labelled & ~reaches_map] = 0
    drawn = (labelled & reaches_map).astype(np.float32)
    x = np.arange(width, dtype=np.float32)
    y = np.arange(height, dtype=np.float32)
    gauss_x = np.exp(-(x - keypoints[:, :1]) ** 2 / (2 * sigma ** 2))
    gauss_y = np.exp(-(y - keypoints[:, 1:]) ** 2 / (2 * sigma ** 2)) * drawn[:, None]
    heatmaps = (gauss_y[:, :, None] * gauss_x[:, None, :]).astype(np.float32)
    return heatmaps, weights


@KEYPOINT_CODECS.register_module()
class SoftmaxHeatmap(MSRAHeatmap):
    """``MSRAHeatmap`` with sub-pixel Gaussian targets whose decode applies a spatial softmax to
    logit heatmaps first.

    Args:
        input_size (tuple): Input image size (w, h).
        heatmap_size (tuple): Heatmap size (W, H).
        sigma (float): Sigma of the Gaussian targets (the loss normalises them).
        beta (float): The loss's factor of the logits before the softmax. Default: 1.0.
        refinement (str): How the argmax is refined to a sub-pixel location: ``'quadratic'``, a
            Newton step on the logits' 3x3 window (``quadratic_refine``); ``'dark'``, MMPose's
            DARK on the blurred softmax (``MSRAHeatmap(unbiased=True)``); ``'quarter'``, MMPose's
            quarter pixel towards the higher neighbour. Default: ``'quadratic'``, which decoded
            the main job's models 0.031-0.033 AP better than DARK with a 3x3 blur.
        blur_kernel_size (int): DARK's Gaussian blur kernel. Default: 11.
    """

    def __init__(self, input_size, heatmap_size, sigma, beta=1.0, refinement='quadratic',
                 blur_kernel_size=11):
        check_softmax_refinement(refinement)
        super().__init__(input_size, heatmap_size, sigma, unbiased=refinement == 'dark',
                         blur_kernel_size=blur_kernel_size)
        self.beta = beta
        self.refinement = refinement

    def encode(self, keypoints: np.ndarray, keypoints_visible: np.ndarray = None) -> dict:
        if keypoints.shape[0] != 1:
            raise ValueError(f'{type(self).__name__} encodes one instance, got {keypoints.shape[0]}')
        if keypoints_visible is None:
            keypoints_visible = np.ones(keypoints.shape[:2], dtype=np.float32)
        return dict(zip(('heatmaps', 'keypoint_weights'), gaussian_heatmaps(
            self.heatmap_size, keypoints[0] / self.scale_factor, keypoints_visible, self.sigma)))

    def decode(self, encoded: np.ndarray):
        if self.refinement == 'quadratic':
            locations, scores = decode_softmax(encoded, self.beta, self.sigma)
            return locations[None] * self.scale_factor, scores[None]
        keypoints, scores = super().decode(spatial_softmax(encoded, self.beta))
        return keypoints, scores / ideal_softmax_peak(self.sigma)

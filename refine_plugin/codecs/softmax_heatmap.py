"""SoftmaxHeatmap: Gaussian heatmap targets for a spatial-softmax loss, decoded through a softmax.

A network trained with a spatial-softmax cross-entropy (``HeatmapCrossEntropyLoss`` with
``use_softmax=True``) outputs logits, which are defined only up to a constant per map. MMPose's
heatmap decoders take the maximum of the raw map and treat a maximum <= 0 as "no keypoint"
(location -1), so decoding logits directly throws away every joint whose logits happen to sit below
zero. This codec decodes ``softmax(beta * logits)`` instead: the same argmax, a positive peak, and
the peak probability as the keypoint score.

Its targets are Gaussians centred at the keypoint's sub-pixel position for every ``sigma``. MMPose's
``MSRAHeatmap`` (``unbiased=False``) cuts a ``2 * 3 * sigma + 1`` patch by integer truncation, which
centres the Gaussian one pixel up and left of the keypoint whenever ``3 * sigma`` is not an integer
(sigma 1.1, 1.4, 1.7, ...): a network trained on those targets predicts every joint a heatmap pixel
up-left (measured on the CPU config: 4 input pixels in x and y).
"""
import numpy as np
from mmpose.codecs import MSRAHeatmap
from mmpose.codecs.utils import generate_unbiased_gaussian_heatmaps
from mmpose.registry import KEYPOINT_CODECS

# the ONNX Runtime decoders (numpy only) own the softmax so that both decode alike
from ..deploy.ort_pose.decode import spatial_softmax


@KEYPOINT_CODECS.register_module()
class SoftmaxHeatmap(MSRAHeatmap):
    """``MSRAHeatmap`` with sub-pixel Gaussian targets whose decode applies a spatial softmax to
    logit heatmaps first.

    Args:
        input_size (tuple): Input image size (w, h).
        heatmap_size (tuple): Heatmap size (W, H).
        sigma (float): Sigma of the Gaussian targets (the loss normalises them).
        beta (float): The loss's factor of the logits before the softmax. Default: 1.0.
        unbiased (bool): DARK refinement of the decoded peaks (the targets are sub-pixel
            either way). Default: False.
        blur_kernel_size (int): DARK's Gaussian blur kernel. Default: 11.
    """

    def __init__(self, input_size, heatmap_size, sigma, beta=1.0, unbiased=False,
                 blur_kernel_size=11):
        super().__init__(input_size, heatmap_size, sigma, unbiased=unbiased,
                         blur_kernel_size=blur_kernel_size)
        self.beta = beta

    def encode(self, keypoints: np.ndarray, keypoints_visible: np.ndarray = None) -> dict:
        if keypoints.shape[0] != 1:
            raise ValueError(f'{type(self).__name__} encodes one instance, got {keypoints.shape[0]}')
        if keypoints_visible is None:
            keypoints_visible = np.ones(keypoints.shape[:2], dtype=np.float32)
        heatmaps, keypoint_weights = generate_unbiased_gaussian_heatmaps(
            heatmap_size=self.heatmap_size, keypoints=keypoints / self.scale_factor,
            keypoints_visible=keypoints_visible, sigma=self.sigma)
        return dict(heatmaps=heatmaps, keypoint_weights=keypoint_weights)

    def decode(self, encoded: np.ndarray):
        return super().decode(spatial_softmax(encoded, self.beta))

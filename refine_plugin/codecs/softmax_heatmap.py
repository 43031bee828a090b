"""SoftmaxHeatmap: Gaussian heatmap targets for a spatial-softmax loss, decoded through a softmax.

A network trained with a spatial-softmax cross-entropy (``HeatmapCrossEntropyLoss`` with
``use_softmax=True``) outputs logits, which are defined only up to a constant per map. MMPose's
heatmap decoders take the maximum of the raw map and treat a maximum <= 0 as "no keypoint"
(location -1), so decoding logits directly throws away every joint whose logits happen to sit below
zero. This codec decodes ``softmax(beta * logits)`` instead: the same argmax, a positive peak, and
the peak probability as the keypoint score.
"""
import numpy as np
from mmpose.codecs import MSRAHeatmap
from mmpose.registry import KEYPOINT_CODECS

# the ONNX Runtime decoders (numpy only) own the softmax so that both decode alike
from ..deploy.ort_pose.decode import spatial_softmax


@KEYPOINT_CODECS.register_module()
class SoftmaxHeatmap(MSRAHeatmap):
    """``MSRAHeatmap`` whose decode applies a spatial softmax to logit heatmaps first.

    Args:
        input_size (tuple): Input image size (w, h).
        heatmap_size (tuple): Heatmap size (W, H).
        sigma (float): Sigma of the Gaussian targets (the loss normalises them).
        beta (float): The loss's factor of the logits before the softmax. Default: 1.0.
        unbiased (bool): DARK refinement of the decoded peaks. Default: False.
        blur_kernel_size (int): DARK's Gaussian blur kernel. Default: 11.
    """

    def __init__(self, input_size, heatmap_size, sigma, beta=1.0, unbiased=False,
                 blur_kernel_size=11):
        super().__init__(input_size, heatmap_size, sigma, unbiased=unbiased,
                         blur_kernel_size=blur_kernel_size)
        self.beta = beta

    def decode(self, encoded: np.ndarray):
        return super().decode(spatial_softmax(encoded, self.beta))

"""Render input poses as Gaussian heatmaps, the pose channels of PoseFix's input.

Per-joint Python loops over pixels are the known bottleneck of public PoseFix ports. A 2D Gaussian
centred on a point is the outer product of two 1D Gaussians, so every heatmap of a batch comes
from one broadcast product of (B, K, H, 1) by (B, K, 1, W) on the inputs' device.
"""
import torch
from torch import Tensor


def render_pose_heatmaps(keypoints: Tensor, visible: Tensor, size: tuple,
                         sigma: float) -> Tensor:
    """Gaussian heatmaps with peak 1 at each visible keypoint and zeros for missing ones.

    Args:
        keypoints: (B, K, 2) pixel coordinates (x, y) in the heatmap frame.
        visible: (B, K); joints with ``visible <= 0`` render as all-zero maps.
        size: (W, H) of the heatmaps.
        sigma: Gaussian standard deviation in pixels, > 0.

    Returns:
        (B, K, H, W) heatmaps, float32 on the keypoints' device.
    """
    w, h = size
    keypoints = keypoints.float()
    xs = torch.arange(w, dtype=torch.float32, device=keypoints.device)
    ys = torch.arange(h, dtype=torch.float32, device=keypoints.device)
    gauss_x = torch.exp(-(xs - keypoints[..., 0:1])**2 / (2 * sigma**2))
    gauss_y = torch.exp(-(ys - keypoints[..., 1:2])**2 / (2 * sigma**2))
    present = (visible > 0).to(torch.float32)[..., None, None]
    return gauss_y[..., :, None] * gauss_x[..., None, :] * present

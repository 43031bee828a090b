"""PoseFix's heatmap loss: cross-entropy between the soft-argmax heatmaps and the target map.

PoseFix supervises its heatmaps with the softmax cross-entropy against a one-hot map of the true
joint, next to the L1 loss of the soft-argmax coordinates. With a normalised Gaussian target
(MMPose's ``IntegralRegressionLabel`` with ``normalize=True``) this is the same loss with label
smoothing over the neighbouring pixels; a small sigma recovers the one-hot target.
"""
import torch
from torch import Tensor, nn

from mmpose.registry import MODELS


@MODELS.register_module()
class HeatmapCrossEntropyLoss(nn.Module):
    """Mean over joints of ``-sum(target * log(pred))`` on (B, K, H, W) probability maps.

    Args:
        use_target_weight: weight each joint by ``keypoint_weights`` (B, K).
        loss_weight: factor of the loss.
        eps: floor of the predicted probabilities inside the log.
    """

    def __init__(self, use_target_weight: bool = True, loss_weight: float = 1.0,
                 eps: float = 1e-8):
        super().__init__()
        self.use_target_weight = use_target_weight
        self.loss_weight = loss_weight
        self.eps = eps

    def forward(self, pred: Tensor, target: Tensor, target_weight: Tensor = None) -> Tensor:
        per_joint = -(target * torch.log(pred.clamp_min(self.eps))).flatten(2).sum(dim=2)
        if self.use_target_weight:
            per_joint = per_joint * target_weight
        return per_joint.mean() * self.loss_weight

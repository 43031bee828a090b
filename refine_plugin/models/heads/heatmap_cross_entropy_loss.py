"""Cross-entropy between predicted heatmaps, as spatial distributions, and the target maps.

PoseFix supervises its heatmaps with the softmax cross-entropy against a one-hot map of the true
joint, next to the L1 loss of the soft-argmax coordinates. With a normalised Gaussian target
(MMPose's ``IntegralRegressionLabel`` with ``normalize=True``) this is the same loss with label
smoothing over the neighbouring pixels; a small sigma recovers the one-hot target.

With ``use_softmax=True`` the loss takes logits and peak-1 Gaussian targets (``MSRAHeatmap``):
the CPU pose configs use it in place of MSE because every pixel's gradient then competes for one
peak, which leaves MSE's all-zero plateau within the few hundred iterations a CPU run affords.
"""
import torch
from torch import Tensor, nn

from mmpose.registry import MODELS


@MODELS.register_module()
class HeatmapCrossEntropyLoss(nn.Module):
    """Mean over joints of ``-sum(target * log(pred))`` on (B, K, H, W) maps.

    Args:
        use_target_weight: weight each joint by ``keypoint_weights`` (B, K).
        loss_weight: factor of the loss.
        use_softmax: ``pred`` holds logits (a softmax over each map gives the probabilities) and
            each target map is normalised to sum to one. Otherwise ``pred`` and ``target`` are
            probability maps already.
        beta: factor of the logits before the softmax, as ``KLDiscretLoss``'s for SimCC.
        eps: without softmax, the floor of the predicted probabilities inside the log; with
            softmax, the floor of each target map's sum in its normalisation.
    """

    def __init__(self, use_target_weight: bool = True, loss_weight: float = 1.0,
                 use_softmax: bool = False, beta: float = 1.0, eps: float = 1e-8):
        super().__init__()
        self.use_target_weight = use_target_weight
        self.loss_weight = loss_weight
        self.use_softmax = use_softmax
        self.beta = beta
        self.eps = eps

    def forward(self, pred: Tensor, target: Tensor, target_weight: Tensor = None) -> Tensor:
        pred, target = pred.flatten(2), target.flatten(2)
        if self.use_softmax:
            log_prob = torch.log_softmax(pred * self.beta, dim=2)
            # joints without a target (all zero) carry weight 0; the floor only avoids 0 / 0
            target = target / target.sum(dim=2, keepdim=True).clamp_min(self.eps)
        else:
            log_prob = torch.log(pred.clamp_min(self.eps))
        per_joint = -(target * log_prob).sum(dim=2)
        if self.use_target_weight:
            per_joint = per_joint * target_weight
        return per_joint.mean() * self.loss_weight

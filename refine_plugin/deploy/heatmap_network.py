"""A top-down heatmap pose model as one tensor function: normalised crops -> final heatmaps.

This is what the fast path optimises and what ONNX exports. It differs from
``TopdownPoseEstimator.forward(mode='tensor')`` in two ways the deployed model needs: it returns
only the heatmaps the estimator decodes (the last stage and unit of multi-stage heads such as
MSPNHead), and it can carry the flip test inside the graph, so an ONNX Runtime user gets the same
keypoints as ``model.test_step`` with ``flip_test=True``.
"""
from typing import Optional, Sequence

import torch
from torch import nn

from ..models.heads.flip_alignment import flip_back_heatmaps, flip_shift_pixels


def final_heatmaps(head_output):
    """The heatmaps a head's ``predict`` decodes: the last tensor of (nested) stage outputs."""
    while isinstance(head_output, (list, tuple)):
        head_output = head_output[-1]
    return head_output


class HeatmapNetwork(nn.Module):
    """Backbone, optional neck and head of a top-down estimator, returning ``(B, K, H, W)``.

    Args:
        pose_model: a built MMPose ``TopdownPoseEstimator`` (or the plugin's subclass).
        flip_indices: keypoint index of each keypoint's mirror; when given, every crop is also run
            mirrored and the mirrored heatmaps, flipped back, are averaged in (MMPose's
            ``flip_mode='heatmap'`` test-time augmentation).
        flip_shift: pixels to move the flipped-back heatmaps right: 1 for MMPose's
            ``test_cfg.shift_heatmap=True``, ``1 - w / W`` for ``'exact'`` (``flip_alignment``).
    """

    def __init__(self, pose_model: nn.Module, flip_indices: Optional[Sequence[int]] = None,
                 flip_shift: float = 0.):
        super().__init__()
        self.backbone = pose_model.backbone
        self.neck = pose_model.neck if getattr(pose_model, 'with_neck', False) else None
        self.head = pose_model.head
        self.flip_shift = flip_shift
        if flip_indices is None:
            self.flip_indices = None
        else:
            self.register_buffer('flip_indices', torch.as_tensor(list(flip_indices)),
                                 persistent=False)

    def heatmaps(self, images: torch.Tensor) -> torch.Tensor:
        feats = self.backbone(images)
        if self.neck is not None:
            feats = self.neck(feats)
        return final_heatmaps(self.head.forward(feats))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        if self.flip_indices is None:
            return self.heatmaps(images)
        # one pass over the crops and their mirrors keeps the batch large
        both = self.heatmaps(torch.cat([images, images.flip(-1)]))
        heatmaps, mirrored = both.chunk(2)
        return (heatmaps + flip_back_heatmaps(mirrored, self.flip_indices, self.flip_shift)) * 0.5

    @classmethod
    def from_test_cfg(cls, pose_model: nn.Module, flip_indices: Sequence[int]):
        """The network with the flip test exactly when the model's ``test_cfg`` asks for it."""
        test_cfg = pose_model.test_cfg or {}
        if not test_cfg.get('flip_test', False):
            return cls(pose_model)
        flip_mode = test_cfg.get('flip_mode', 'heatmap')
        if flip_mode != 'heatmap':
            raise ValueError(f"flip_mode '{flip_mode}' is not supported for deployment; "
                             "use flip_mode='heatmap' or flip_test=False")
        return cls(pose_model, flip_indices,
                   flip_shift_pixels(test_cfg.get('shift_heatmap', False),
                                     getattr(pose_model.head, 'decoder', None)))

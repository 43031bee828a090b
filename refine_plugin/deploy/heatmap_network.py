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
        shift_heatmap: shift the flipped-back heatmaps one pixel right, as MMPose's
            ``test_cfg.shift_heatmap``.
    """

    def __init__(self, pose_model: nn.Module, flip_indices: Optional[Sequence[int]] = None,
                 shift_heatmap: bool = False):
        super().__init__()
        self.backbone = pose_model.backbone
        self.neck = pose_model.neck if getattr(pose_model, 'with_neck', False) else None
        self.head = pose_model.head
        self.shift_heatmap = shift_heatmap
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
        mirrored = mirrored.flip(-1).index_select(1, self.flip_indices)
        if self.shift_heatmap:
            mirrored = torch.cat([mirrored[..., :1], mirrored[..., :-1]], dim=-1)
        return (heatmaps + mirrored) * 0.5

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
        return cls(pose_model, flip_indices, test_cfg.get('shift_heatmap', False))

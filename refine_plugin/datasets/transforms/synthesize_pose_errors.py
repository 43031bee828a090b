"""PoseFix's training input: a ground-truth pose corrupted with the errors pose estimators make.

PoseFix (Moon et al., CVPR 2019) follows Ronchi & Perona's error taxonomy. Each labelled joint of
the ground truth becomes one of

- ``good``: within the OKS-0.85 distance of the truth,
- ``jitter``: between the OKS-0.85 and OKS-0.5 distances,
- ``inversion``: within the OKS-0.85 distance of its left/right counterpart,
- ``swap``: within the OKS-0.85 distance of the same joint of an overlapping person (box IoU above
  ``swap_iou_thr``, distance measured with that person's area),
- ``miss``: between the OKS-0.5 and OKS-0.1 distances,

where the OKS-t distance of joint k is the distance at which COCO's per-joint OKS equals t:
``d = 2 * sigma_k * sqrt(-2 * ln(t) * area)``.
"""
from typing import Dict, Sequence

import numpy as np
from mmcv.transforms import BaseTransform

from mmpose.registry import TRANSFORMS

ERROR_TYPES = ('good', 'jitter', 'inversion', 'swap', 'miss')
GOOD, JITTER, INVERSION, SWAP, MISS = range(len(ERROR_TYPES))
CASES = ('alone', 'alone_few_joints', 'crowded', 'crowded_few_joints')

COCO_SIGMAS = (0.026, 0.025, 0.025, 0.035, 0.035, 0.079, 0.079, 0.072, 0.072, 0.062, 0.062,
               0.107, 0.107, 0.087, 0.087, 0.089, 0.089)
COCO_JOINT_GROUPS = dict(face=(0, 1, 2, 3, 4), upper=(5, 6, 7, 8, 9, 10),
                         lower=(11, 12, 13, 14, 15, 16))


def oks_distance(oks: float, sigmas: np.ndarray, area) -> np.ndarray:
    """Distance from the truth at which COCO's per-joint OKS drops to ``oks``."""
    return 2 * sigmas * np.sqrt(-2 * np.log(oks) * np.maximum(area, 1.0))


def box_iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """IoU of one xyxy box with each of (M, 4) xyxy boxes."""
    lt = np.maximum(box[:2], boxes[:, :2])
    rb = np.minimum(box[2:], boxes[:, 2:])
    inter = np.prod(np.clip(rb - lt, 0, None), axis=1)
    area = np.prod(box[2:] - box[:2])
    areas = np.prod(boxes[:, 2:] - boxes[:, :2], axis=1)
    return inter / np.maximum(area + areas - inter, 1e-6)


@TRANSFORMS.register_module()
class SynthesizePoseErrors(BaseTransform):
    """Make PoseFix's input pose from a ground-truth pose (image coordinates).

    The case of a person is ``crowded`` when another person's box overlaps it (IoU >=
    ``swap_iou_thr``) and ``few_joints`` when fewer than ``few_joints_thr`` joints are labelled;
    the error probabilities depend on the case and on the joint's group.

    Where the drawn error is impossible (inversion of a joint without a labelled counterpart, swap
    without an overlapping person labelling that joint) the joint gets ``jitter`` instead, so the
    realised rates of those joints differ from the configured ones; ``input_pose_errors`` records
    the realised type of each joint.

    Required keys: ``keypoints`` (1, K, 2), ``keypoints_visible`` (1, K), ``area``, ``bbox``,
    ``flip_indices``, ``other_keypoints`` (M, K, 2), ``other_keypoints_visible`` (M, K),
    ``other_bboxes`` (M, 4), ``other_areas`` (M,) (see :class:`PoseFixCocoDataset`).

    Added keys: ``input_pose`` (1, K, 2), ``input_pose_visible`` (1, K) (unlabelled joints get 0
    and render as empty maps), ``input_pose_errors`` (1, K) indices into :data:`ERROR_TYPES`.

    Args:
        probabilities: for each case of :data:`CASES`, for each joint group, the probabilities
            of ``jitter``, ``inversion``, ``swap`` and ``miss`` (``good`` takes the rest);
            the ``alone`` cases must have no swap.
        joint_groups: group name -> joint indices, covering every joint once.
        sigmas: COCO per-joint OKS sigmas.
        few_joints_thr: a person with fewer labelled joints is in a ``few_joints`` case.
        swap_iou_thr: box IoU from which another person counts as overlapping.
    """

    def __init__(self,
                 probabilities: Dict[str, Dict[str, Dict[str, float]]],
                 joint_groups: Dict[str, Sequence[int]] = COCO_JOINT_GROUPS,
                 sigmas: Sequence[float] = COCO_SIGMAS,
                 few_joints_thr: int = 10,
                 swap_iou_thr: float = 0.1):
        self.sigmas = np.asarray(sigmas, dtype=np.float32)
        self.joint_groups = {name: list(ids) for name, ids in joint_groups.items()}
        self._check_joint_groups()
        self.few_joints_thr = few_joints_thr
        self.swap_iou_thr = swap_iou_thr
        self.cumulative = {case: self._joint_cumulative(case, probabilities) for case in CASES}

    def _check_joint_groups(self):
        """Every joint id must be one of the ``sigmas`` joints and in one group only."""
        num_joints = len(self.sigmas)
        group_of = {}
        for group, ids in self.joint_groups.items():
            for joint in ids:
                if not 0 <= joint < num_joints:
                    raise ValueError(f'SynthesizePoseErrors: joint_groups[{group!r}] has the joint '
                                     f'{joint}, outside 0..{num_joints - 1} ({num_joints} sigmas)')
                if joint in group_of:
                    raise ValueError(f'SynthesizePoseErrors: joint {joint} is in both '
                                     f'joint_groups[{group_of[joint]!r}] and '
                                     f'joint_groups[{group!r}]; each joint needs one group')
                group_of[joint] = group

    def _joint_cumulative(self, case: str, probabilities: dict) -> np.ndarray:
        """(K, 5) cumulative probabilities over :data:`ERROR_TYPES` for one case."""
        num_joints = len(self.sigmas)
        if case not in probabilities:
            raise KeyError(f'SynthesizePoseErrors: probabilities lack the case {case!r}')
        joint_probs = np.full((num_joints, len(ERROR_TYPES)), np.nan)
        for group, ids in self.joint_groups.items():
            if group not in probabilities[case]:
                raise KeyError(f'SynthesizePoseErrors: probabilities[{case!r}] lacks the '
                               f'joint group {group!r}')
            errors = probabilities[case][group]
            unknown = sorted(set(errors) - set(ERROR_TYPES[1:]))
            if unknown:
                raise ValueError(f'SynthesizePoseErrors: probabilities[{case!r}][{group!r}] has '
                                 f'the unknown error types {unknown}; allowed are '
                                 f'{list(ERROR_TYPES[1:])} (good takes the rest)')
            probs = [errors.get(name, 0.0) for name in ERROR_TYPES[1:]]
            if min(probs) < 0 or sum(probs) > 1:
                raise ValueError(f'SynthesizePoseErrors: probabilities[{case!r}][{group!r}] '
                                 f'= {errors} must be >= 0 with a sum <= 1')
            if case.startswith('alone') and probs[SWAP - 1] > 0:
                raise ValueError(f'SynthesizePoseErrors: probabilities[{case!r}][{group!r}] '
                                 'has a swap, but a person alone has nobody to swap with')
            joint_probs[ids] = [1 - sum(probs)] + probs
        if np.isnan(joint_probs).any():
            raise ValueError(f'SynthesizePoseErrors: joint_groups {self.joint_groups} do not '
                             f'cover all {num_joints} joints')
        return np.cumsum(joint_probs, axis=1)

    def transform(self, results: dict) -> dict:
        if 'other_bboxes' not in results:
            raise KeyError(f'SynthesizePoseErrors: {results.get("img_path")} has no other persons '
                           '(other_keypoints, other_bboxes, ...); load it with PoseFixCocoDataset')
        keypoints = results['keypoints'][0, :, :2].astype(np.float32)
        visible = results['keypoints_visible'][0] > 0
        num_joints = len(keypoints)
        if num_joints != len(self.sigmas):
            raise ValueError(f'SynthesizePoseErrors: {results.get("img_path")} (annotation id '
                             f'{results.get("id")}) has {num_joints} keypoints but the error '
                             f'model has {len(self.sigmas)} sigmas')
        area = float(np.asarray(results['area']).reshape(-1)[0])
        overlap = box_iou(results['bbox'][0], results['other_bboxes']) >= self.swap_iou_thr
        other_keypoints = results['other_keypoints'][overlap]
        other_visible = results['other_keypoints_visible'][overlap] > 0
        other_areas = results['other_areas'][overlap]

        case = ('crowded' if overlap.any() else 'alone') + (
            '_few_joints' if visible.sum() < self.few_joints_thr else '')
        errors = (np.random.rand(num_joints, 1) >= self.cumulative[case][:, :-1]).sum(axis=1)

        flip_indices = np.asarray(results['flip_indices'])
        has_counterpart = (flip_indices != np.arange(num_joints)) & visible[flip_indices]
        errors[(errors == INVERSION) & ~has_counterpart] = JITTER
        errors[(errors == SWAP) & ~other_visible.any(axis=0)] = JITTER

        # For each joint, a random overlapping person among those who label it.
        swap_with = np.argmax(np.random.rand(*other_visible.shape) * other_visible, axis=0) \
            if len(other_visible) else np.zeros(num_joints, dtype=int)
        centres = keypoints.copy()
        centres[errors == INVERSION] = keypoints[flip_indices][errors == INVERSION]
        band_area = np.full(num_joints, area)
        is_swap = errors == SWAP
        if is_swap.any():
            centres[is_swap] = other_keypoints[swap_with[is_swap], np.flatnonzero(is_swap)]
            band_area[is_swap] = other_areas[swap_with[is_swap]]

        d85, d50, d10 = (oks_distance(t, self.sigmas, band_area) for t in (0.85, 0.5, 0.1))
        low = np.select([errors == JITTER, errors == MISS], [d85, d50], default=0.0)
        high = np.select([errors == JITTER, errors == MISS], [d50, d10], default=d85)
        radius = low + (high - low) * np.random.rand(num_joints)
        angle = 2 * np.pi * np.random.rand(num_joints)
        offset = radius[:, None] * np.stack([np.cos(angle), np.sin(angle)], axis=1)

        results['input_pose'] = (centres + offset).astype(np.float32)[None]
        results['input_pose_visible'] = visible.astype(np.float32)[None]
        results['input_pose_errors'] = np.where(visible, errors, GOOD)[None]
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(joint_groups={self.joint_groups}, '
                f'few_joints_thr={self.few_joints_thr}, swap_iou_thr={self.swap_iou_thr})')

"""The person box of PoseFix: the input pose's extent, enlarged, or the box the pose came with.

PoseFix refines poses of any estimator without its boxes, so training and test crops both come from
the input pose alone; training on ground-truth boxes would show the network other crops than it
sees at test time. A top-down estimator's results carry the box each pose was estimated in (MMPose's
CocoMetric writes it as ``bbox``), and with ``keep_given_box`` the refiner crops as the estimator
did: on ground-truth boxes in training, on the results' boxes at test time.
"""
import numpy as np
from mmcv.transforms import BaseTransform

from mmpose.registry import TRANSFORMS


@TRANSFORMS.register_module()
class BBoxFromInputPose(BaseTransform):
    """Set ``bbox`` (1, 4) xyxy to the extent of the visible joints of ``input_pose``.

    Keypoints lie inside a person's silhouette (the top of the head and the feet reach beyond
    them), so the extent is enlarged by ``enlarge`` around its centre, and each side made at least
    ``min_size`` pixels for poses with one or two visible joints. ``GetBBoxCenterScale`` adds the
    usual top-down padding afterwards.

    With ``keep_given_box`` a sample that already has a ``bbox`` keeps it, and only poses without
    one (results of an estimator that writes no boxes) get the extent.

    Required keys: ``input_pose`` (1, K, 2), ``input_pose_visible`` (1, K). Modified: ``bbox``.
    """

    def __init__(self, enlarge: float = 1.2, min_size: float = 16.0,
                 keep_given_box: bool = False):
        self.enlarge = enlarge
        self.min_size = min_size
        self.keep_given_box = keep_given_box

    def transform(self, results: dict) -> dict:
        if self.keep_given_box and results.get('bbox') is not None:
            return results
        visible = results['input_pose_visible'][0] > 0
        if not visible.any():
            raise ValueError(f'BBoxFromInputPose: the input pose of {results.get("img_path")} '
                             f'(id {results.get("id")}) has no visible keypoint')
        points = results['input_pose'][0][visible]
        low, high = points.min(axis=0), points.max(axis=0)
        centre = (low + high) / 2
        half = np.maximum((high - low) * self.enlarge, self.min_size) / 2
        results['bbox'] = np.concatenate([centre - half, centre + half])[None].astype(np.float32)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(enlarge={self.enlarge}, min_size={self.min_size}, '
                f'keep_given_box={self.keep_given_box})')

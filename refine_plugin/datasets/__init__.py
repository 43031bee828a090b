from .transforms import *  # noqa: F401,F403
from .aic_coco_dataset import AicCocoDataset  # noqa: F401
from .posefix_coco_dataset import PoseFixCocoDataset  # noqa: F401
from .checked_coco_dataset import CheckedCocoDataset  # noqa: F401

from .coco_submission_metric import CocoSubmissionMetric  # noqa: F401
from .keypoint_results import check_keypoint_results  # noqa: F401

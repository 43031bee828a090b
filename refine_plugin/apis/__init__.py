from .posefix import (image_paths_by_id, init_refiner, refine_results,  # noqa: F401
                      refine_results_file)
from .coco_evaluation import coco_ap  # noqa: F401
from .pipeline import format_table, run_pipeline  # noqa: F401
from .pose_estimation import estimate_poses  # noqa: F401
from .image_poses import estimate_image_poses  # noqa: F401
from .person_boxes import detect_persons, init_person_detector, load_person_boxes  # noqa: F401
from .pose_estimator_init import check_checkpoint_given, init_pose_estimator  # noqa: F401

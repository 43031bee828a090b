from .bbox_from_input_pose import BBoxFromInputPose  # noqa: F401
from .synthesize_pose_errors import SynthesizePoseErrors  # noqa: F401
from .warp_input_pose import WarpInputPose  # noqa: F401
from .cached_load_image import CachedLoadImage  # noqa: F401

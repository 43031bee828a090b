from .ensemble import EnsemblePoseEstimator  # noqa: F401
from .posefix_refiner import PoseFixRefiner  # noqa: F401

from .multi_stage_refine_head import MultiStageRefineHead  # noqa: F401
from .heatmap_cross_entropy_loss import HeatmapCrossEntropyLoss  # noqa: F401

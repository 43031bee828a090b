from .multi_stage_refine_net import MultiStageRefineNet  # noqa: F401
from .refine_bottleneck import RefineBottleneck  # noqa: F401
from .refine_resnet import RefineResNet  # noqa: F401

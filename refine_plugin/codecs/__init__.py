from .softmax_heatmap import SoftmaxHeatmap  # noqa: F401

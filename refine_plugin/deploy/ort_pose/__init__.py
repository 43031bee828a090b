"""Top-down pose inference with ONNX Runtime, needing only numpy, OpenCV and onnxruntime.

This folder imports nothing from MMPose, MMCV or torch, so it can be copied on its own next to an
exported ``.onnx`` file (as rtmlib does for RTMPose). Everything the preprocessing and decoding need
(input size, normalisation, codec) is read from the model file's metadata, written by
``refine_plugin.deploy.export_onnx``.
"""
from .crop import crop_persons
from .decode import decode_heatmaps
from .inferencer import OnnxPoseInferencer, TopdownHeatmapInferencer

__all__ = [
    'OnnxPoseInferencer', 'TopdownHeatmapInferencer', 'crop_persons', 'decode_heatmaps'
]

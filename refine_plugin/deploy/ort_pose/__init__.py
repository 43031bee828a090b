"""Top-down pose inference with ONNX Runtime or OpenVINO, needing only numpy, OpenCV and the
runtime.

This folder imports nothing from MMPose, MMCV or torch, so it can be copied on its own next to an
exported ``.onnx`` file (as rtmlib does for RTMPose). Everything the preprocessing and decoding need
(input size, normalisation, codec) is read from the model file's metadata, written by
``refine_plugin.deploy.export_onnx``.
"""
from .crop import crop_persons
from .decode import decode_heatmaps
from .inferencer import OnnxPoseInferencer, TopdownHeatmapInferencer
from .openvino_inferencer import OpenVinoPoseInferencer
from .runtimes import RUNTIMES, open_pose_model

__all__ = [
    'OnnxPoseInferencer', 'OpenVinoPoseInferencer', 'RUNTIMES', 'TopdownHeatmapInferencer',
    'crop_persons', 'decode_heatmaps', 'open_pose_model'
]

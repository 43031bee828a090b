"""Deployment: BN folding, the fast CPU path, ONNX export and the mmcv-free ONNX Runtime and
OpenVINO runners."""
from .bn_folding import find_conv_bn_pairs, fold_batchnorm
from .fast_inference import FastHeatmapNetwork, FastPoseInferencer, native_bfloat16_cpu
from .heatmap_network import HeatmapNetwork
from .onnx_export import deployment_metadata, export_onnx
from .ort_pose import OnnxPoseInferencer, OpenVinoPoseInferencer

__all__ = [
    'FastHeatmapNetwork', 'FastPoseInferencer', 'HeatmapNetwork', 'OnnxPoseInferencer',
    'OpenVinoPoseInferencer', 'deployment_metadata', 'export_onnx', 'find_conv_bn_pairs',
    'fold_batchnorm', 'native_bfloat16_cpu'
]

"""The runtimes an exported ``.onnx`` pose model runs on, by the names the tools take."""
from .inferencer import OnnxPoseInferencer
from .openvino_inferencer import OpenVinoPoseInferencer

# runtime name -> OpenVINO inference precision
OPENVINO_RUNTIMES = {'openvino': 'f32', 'openvino-bf16': 'bf16'}
RUNTIMES = ('onnxruntime', *OPENVINO_RUNTIMES)


def open_pose_model(model_file: str, runtime: str = 'onnxruntime', **kwargs):
    """The inferencer of ``model_file`` on ``runtime`` (one of ``RUNTIMES``: ONNX Runtime with
    the providers it offers, OpenVINO in float32 or bfloat16); ``kwargs`` go to its class (e.g.
    ``batch_size``)."""
    if runtime == 'onnxruntime':
        return OnnxPoseInferencer(model_file, **kwargs)
    if runtime in OPENVINO_RUNTIMES:
        return OpenVinoPoseInferencer(model_file, precision=OPENVINO_RUNTIMES[runtime], **kwargs)
    raise ValueError(f'runtime must be one of {RUNTIMES}, got {runtime!r}')

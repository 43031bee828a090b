"""``TopdownHeatmapInferencer`` of an exported ``.onnx`` file, run by OpenVINO."""
import json

import numpy as np

from .inferencer import (METADATA_KEY, TopdownHeatmapInferencer, check_model_file,
                         missing_metadata_error, unparsable_model_error)

OPENVINO_PRECISIONS = ('f32', 'bf16')


class OpenVinoPoseInferencer(TopdownHeatmapInferencer):
    """``TopdownHeatmapInferencer`` of an exported ``.onnx`` file, run by OpenVINO.

    The same file and keypoints as ``OnnxPoseInferencer``. Why a second runtime: on CPUs with
    native bfloat16 arithmetic (AVX512-BF16 or AMX) OpenVINO runs the network in bfloat16, where
    ONNX Runtime's CPU convolutions are float32 or int8; 4xRefine-50 at 256x192 then ran at
    2.77x / 2.85x eager MMPose 4xMSPN-50's persons/s at batch 1 / 8 (an AMD EPYC with
    AVX512-BF16, 2 threads; see the README's benchmark).

    Args:
        model_file: an ``.onnx`` file written by ``refine_plugin.deploy.export_onnx`` (its
            metadata holds the input size, normalisation and codec).
        precision: OpenVINO's inference precision, ``'f32'`` (the default, ONNX Runtime's
            keypoints) or ``'bf16'`` (keypoints a median 0.03 px from float32's on the main
            job's model, same AP). OpenVINO's own default is bfloat16 where the CPU has it,
            hence the explicit ``'f32'``.
        device: OpenVINO device name. Default: ``'CPU'``.
        num_threads: CPU threads (default: OpenVINO's choice).
        batch_size: persons per call.
    """

    def __init__(self, model_file: str, precision: str = 'f32', device: str = 'CPU',
                 num_threads: int = None, batch_size: int = 8):
        # imported here: openvino is only in the plugin's 'deploy' extra
        import openvino as ov
        if precision not in OPENVINO_PRECISIONS:
            raise ValueError(f'precision must be one of {OPENVINO_PRECISIONS}, got {precision!r}')
        check_model_file(model_file)
        self.core = ov.Core()
        try:
            self.network = self.core.read_model(str(model_file))
        except RuntimeError:
            # OpenVINO's parse errors are long C++ traces; the tools print this message instead
            raise unparsable_model_error(model_file) from None
        if not self.network.has_rt_info(['framework', METADATA_KEY]):
            raise missing_metadata_error(model_file)
        meta = json.loads(self.network.get_rt_info(['framework', METADATA_KEY]).astype(str))
        super().__init__(meta, batch_size)
        self.device = device
        self.config = {'INFERENCE_PRECISION_HINT': precision, 'PERFORMANCE_HINT': 'LATENCY'}
        if num_threads is not None:
            self.config['INFERENCE_NUM_THREADS'] = num_threads
        self.requests = {}

    def request_for(self, batch_size: int):
        """An infer request compiled for ``batch_size`` crops, made on first use. Why one per
        batch size: OpenVINO ran the network 7% slower with a dynamic batch dimension
        (4xRefine-50, batch 1 and 8), and a compile takes about 1.5 s."""
        if batch_size not in self.requests:
            network = self.network.clone()  # reshape changes the model it is called on
            width, height = self.meta['codec']['input_size']
            network.reshape({network.input().get_any_name(): [batch_size, 3, height, width]})
            compiled = self.core.compile_model(network, self.device, self.config)
            self.requests[batch_size] = compiled.create_infer_request()
        return self.requests[batch_size]

    def run_network(self, images: np.ndarray) -> np.ndarray:
        # copied: the request reuses its output buffer on the next call
        return self.request_for(len(images)).infer({0: images})[0].copy()

"""Top-down inference on image + person boxes: the crops and decoding around any heatmap network
(``TopdownHeatmapInferencer``) and its ONNX Runtime form (``OnnxPoseInferencer``)."""
import json
import os

import numpy as np

from .crop import crop_persons
from .decode import decode_heatmaps

METADATA_KEY = 'refine_plugin'


def check_model_file(model_file) -> None:
    """Refuse a path that is not a file, naming it, before a runtime fails on it in C++."""
    if os.path.isdir(model_file):
        raise ValueError(f'{model_file}: is a directory, not an ONNX model file')
    if not os.path.isfile(model_file):
        raise ValueError(f'{model_file}: no such ONNX model file')


def unparsable_model_error(model_file) -> ValueError:
    return ValueError(f'{model_file}: not an ONNX model (the file does not parse)')


def missing_metadata_error(model_file) -> ValueError:
    return ValueError(f'{model_file}: no {METADATA_KEY!r} metadata; export the model with '
                      'tools/deploy/export_onnx.py')


class TopdownHeatmapInferencer:
    """Keypoints of the people in a BGR image, given their boxes, from any heatmap network.

    Crops, normalises and decodes as ``mmpose.apis.inference_topdown`` does, from the deployment
    metadata (``meta``) written by ``refine_plugin.deploy.export_onnx``, running the network
    ``batch_size`` persons at a time. Subclasses run it: ``run_network(images)`` maps normalised
    float32 crops ``(B, 3, h, w)`` to ``(B, K, H, W)`` heatmaps.
    """

    def __init__(self, meta: dict, batch_size: int = 8):
        self.meta = meta
        self.mean = np.array(meta['mean'], np.float32)
        self.std = np.array(meta['std'], np.float32)
        self.batch_size = batch_size

    def run_network(self, images: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def heatmaps(self, images: np.ndarray) -> np.ndarray:
        """Run the network on normalised crops, ``batch_size`` at a time."""
        return np.concatenate([self.run_network(images[i:i + self.batch_size])
                               for i in range(0, len(images), self.batch_size)])

    def preprocess(self, crops: np.ndarray) -> np.ndarray:
        """BGR uint8 crops ``(N, h, w, 3)`` -> normalised float32 ``(N, 3, h, w)``."""
        if self.meta['bgr_to_rgb']:
            crops = crops[..., ::-1]
        crops = (crops.astype(np.float32) - self.mean) / self.std
        return np.ascontiguousarray(crops.transpose(0, 3, 1, 2))

    def __call__(self, image: np.ndarray, bboxes: np.ndarray):
        """Keypoints ``(N, K, 2)`` in image pixels and scores ``(N, K)`` for xyxy ``bboxes``."""
        if image is None or image.ndim != 3 or image.shape[2] != 3:
            raise ValueError('expected a BGR image of shape (H, W, 3), got '
                             f'{None if image is None else image.shape}')
        bboxes = np.asarray(bboxes, dtype=np.float32)
        if bboxes.ndim != 2 or bboxes.shape[1] != 4:
            raise ValueError(f'expected person boxes of shape (N, 4) as x1, y1, x2, y2, got '
                             f'{bboxes.shape}')
        input_size = self.meta['codec']['input_size']
        crops, centers, scales = crop_persons(image, bboxes, input_size,
                                              self.meta['bbox_padding'])
        num_keypoints = self.meta['num_keypoints']
        if len(crops) == 0:
            return np.zeros((0, num_keypoints, 2), np.float32), np.zeros((0, num_keypoints),
                                                                         np.float32)
        heatmaps = self.heatmaps(self.preprocess(crops))
        keypoints, scores = zip(*[decode_heatmaps(h, self.meta['codec']) for h in heatmaps])
        keypoints, scores = np.stack(keypoints), np.stack(scores)
        # model-input pixels -> image pixels, as TopdownPoseEstimator.add_pred_to_datasample
        keypoints = (keypoints / np.array(input_size, np.float32) * scales[:, None]
                     + centers[:, None] - 0.5 * scales[:, None])
        return keypoints, scores


class OnnxPoseInferencer(TopdownHeatmapInferencer):
    """``TopdownHeatmapInferencer`` of an exported ``.onnx`` file, run by ONNX Runtime.

    Args:
        model_file: an ``.onnx`` file written by ``refine_plugin.deploy.export_onnx`` (its
            metadata holds the input size, normalisation and codec).
        providers: ONNX Runtime execution providers, e.g. ``['CUDAExecutionProvider',
            'CPUExecutionProvider']``; by default what the installed onnxruntime offers.
        batch_size: persons per ONNX Runtime call.
    """

    def __init__(self, model_file: str, providers=None, batch_size: int = 8):
        # imported here: the plugin's configs import this package, and onnxruntime is only in
        # its 'deploy' extra
        import onnxruntime as ort
        check_model_file(model_file)
        try:
            self.session = ort.InferenceSession(
                str(model_file), providers=providers or ort.get_available_providers())
        except ort.capi.onnxruntime_pybind11_state.InvalidProtobuf:
            # ONNX Runtime's own exceptions derive from Exception alone, which the tools'
            # ValueError handling (a message, no traceback) would not catch
            raise unparsable_model_error(model_file) from None
        metadata = self.session.get_modelmeta().custom_metadata_map
        if METADATA_KEY not in metadata:
            raise missing_metadata_error(model_file)
        super().__init__(json.loads(metadata[METADATA_KEY]), batch_size)
        self.input_name = self.session.get_inputs()[0].name

    def run_network(self, images: np.ndarray) -> np.ndarray:
        return self.session.run(None, {self.input_name: images})[0]

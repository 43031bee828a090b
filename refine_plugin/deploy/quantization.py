"""Static int8 quantization of an exported pose model, calibrated on person crops.

Why: in fp32 the fast paths already run 4xMSPN-50 near this kind of CPU's measured fp32 peak, so
only narrower arithmetic makes them faster. ONNX Runtime's int8 convolutions (per-channel int8
weights, uint8 activations, QDQ format) do that on any x86-64 CPU with AVX2. The scales of the
activations come from running the fp32 model on crops of real (or generated) people, cut and
normalised exactly as ``OnnxPoseInferencer`` does at test time.
"""
import os.path as osp
import tempfile

import numpy as np
import onnx
from mmengine.fileio import put
from onnxruntime.quantization import (CalibrationDataReader, CalibrationMethod, QuantFormat,
                                      QuantType, quantize_static)
from onnxruntime.quantization.shape_inference import quant_pre_process

from .annotated_people import annotated_people
from .ort_pose import OnnxPoseInferencer, crop_persons


class CropReader(CalibrationDataReader):
    """Feeds normalised crops to ONNX Runtime's calibrator, ``batch_size`` at a time.

    One at a time by default: the calibrating session keeps every activation of a call, which for
    4xRefine-50 at 384x288 and 8 crops took most of a 24 GiB machine.
    """

    def __init__(self, input_name: str, images: np.ndarray, batch_size: int = 1):
        self.batches = iter([{input_name: images[i:i + batch_size]}
                             for i in range(0, len(images), batch_size)])

    def get_next(self):
        return next(self.batches, None)


def calibration_crops(model_file: str, ann_file: str, img_dir: str,
                      num_persons: int = 64) -> np.ndarray:
    """Normalised crops ``(N, 3, h, w)`` of the first ``num_persons`` annotated people.

    Raises a ``ValueError`` naming the file and item for a bad image reference or image.
    """
    inferencer = OnnxPoseInferencer(model_file, providers=['CPUExecutionProvider'])
    crops, num_crops = [], 0
    for _, image, bboxes in annotated_people(ann_file, img_dir):
        crops.append(crop_persons(image, bboxes, inferencer.meta['codec']['input_size'],
                                  inferencer.meta['bbox_padding'])[0])
        num_crops += len(bboxes)
        if num_crops >= num_persons:
            break
    if not crops:
        raise ValueError(f'{ann_file}: no annotated person to calibrate on')
    return inferencer.preprocess(np.concatenate(crops)[:num_persons])


def quantize_pose_model(model_file: str, out_file: str, crops: np.ndarray) -> None:
    """Write the int8 version of the exported ``model_file``, calibrated on ``crops``.

    The plugin's metadata (input size, normalisation, codec) is carried over, so
    ``OnnxPoseInferencer`` runs the int8 file like the fp32 one.
    """
    model = onnx.load(model_file)
    input_name = model.graph.input[0].name
    with tempfile.TemporaryDirectory() as tmp_dir:
        # shape inference and graph clean-up first, as ONNX Runtime advises for static int8;
        # its symbolic shape inference does not know Col2Im (the Refine blocks' spatial gate), and
        # ONNX's own shape inference is enough for a fixed input size
        prepared = osp.join(tmp_dir, 'prepared.onnx')
        quant_pre_process(model_file, prepared, skip_symbolic_shape=True)
        quantized_file = osp.join(tmp_dir, 'quantized.onnx')
        quantize_static(prepared, quantized_file, CropReader(input_name, crops),
                        quant_format=QuantFormat.QDQ, per_channel=True,
                        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                        calibrate_method=CalibrationMethod.MinMax)
        quantized = onnx.load(quantized_file)
    onnx.helper.set_model_props(
        quantized, {prop.key: prop.value for prop in model.metadata_props})
    # published complete, metadata included (the plugin's AtomicLocalBackend), as export_onnx
    put(quantized.SerializeToString(), out_file)

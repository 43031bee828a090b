"""Export a top-down heatmap pose model to ONNX, self-described for ``ort_pose``.

The graph is the BN-folded ``HeatmapNetwork`` (flip test inside when the config's ``test_cfg`` has
it) with a dynamic batch axis. Everything ONNX Runtime users need around it -- input size,
normalisation, bbox padding, codec, keypoint names -- goes into the model's metadata as JSON, so
``OnnxPoseInferencer`` needs neither the config nor MMPose.
"""
import io
import json

import torch
from mmengine.config import Config
from mmengine.fileio import put

from .folded_network import example_input, folded_heatmap_network
from .ort_pose.decode import SUPPORTED_CODECS
from .ort_pose.inferencer import METADATA_KEY

# the first opset with Col2Im, which the Refine blocks' spatial gate (SpatialGateConv) exports to
OPSET_VERSION = 18


def find_transform(pipeline, transform_type: str) -> dict:
    matches = [t for t in pipeline if t['type'] == transform_type]
    return matches[0] if matches else {}


def deployment_metadata(cfg: Config, dataset_meta: dict) -> dict:
    """What preprocessing and decoding need, read from the config the model was built with."""
    codec = cfg.model.head.decoder
    if codec['type'] not in SUPPORTED_CODECS:
        raise ValueError(f"codec '{codec['type']}' of {cfg.filename} cannot be exported: "
                         f'ONNX Runtime decoding supports {SUPPORTED_CODECS}')
    pipeline = cfg.test_dataloader.dataset.pipeline
    if find_transform(pipeline, 'TopdownAffine').get('use_udp', False):
        raise ValueError(f'{cfg.filename}: TopdownAffine(use_udp=True) is not supported for export')
    preprocessor = cfg.model.data_preprocessor
    return dict(
        codec={k: (list(v) if isinstance(v, tuple) else v) for k, v in codec.items()},
        mean=list(preprocessor['mean']),
        std=list(preprocessor['std']),
        bgr_to_rgb=bool(preprocessor.get('bgr_to_rgb', False)),
        bbox_padding=find_transform(pipeline, 'GetBBoxCenterScale').get('padding', 1.25),
        num_keypoints=dataset_meta['num_keypoints'],
        keypoint_names=[dataset_meta['keypoint_id2name'][i]
                        for i in range(dataset_meta['num_keypoints'])],
        flip_test=bool((cfg.model.get('test_cfg') or {}).get('flip_test', False)),
    )


def export_onnx(pose_model: torch.nn.Module, out_file: str,
                opset_version: int = OPSET_VERSION) -> dict:
    """Write ``pose_model`` (built by ``mmpose.apis.init_model``) to ``out_file``.

    Returns the metadata stored in the file.
    """
    import onnx  # imported here: it is only in the plugin's 'deploy' extra
    metadata = deployment_metadata(pose_model.cfg, pose_model.dataset_meta)
    network = folded_heatmap_network(pose_model)
    graph = io.BytesIO()
    with torch.no_grad():
        torch.onnx.export(
            network, (example_input(pose_model), ), graph, dynamo=False,
            input_names=['images'], output_names=['heatmaps'], opset_version=opset_version,
            dynamic_axes={'images': {0: 'batch'}, 'heatmaps': {0: 'batch'}})
    model = onnx.load_model_from_string(graph.getvalue())
    onnx.helper.set_model_props(model, {METADATA_KEY: json.dumps(metadata)})
    # the file appears only complete and with its metadata (the plugin's AtomicLocalBackend): a
    # kill mid-export would otherwise leave a valid-looking model that ort_pose cannot use
    put(model.SerializeToString(), str(out_file))
    return metadata

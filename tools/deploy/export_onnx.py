"""Export a top-down heatmap pose model of the plugin (or of MMPose) to ONNX.

The file holds the BN-folded network (with the flip test inside unless ``--no-flip``) and, as
metadata, the input size, normalisation and codec, so ``tools/deploy/onnx_infer.py`` and
``refine_plugin/deploy/ort_pose`` run it without MMPose, MMCV or torch.

    python tools/deploy/export_onnx.py CONFIG CHECKPOINT out.onnx
"""
import argparse
import warnings

import numpy as np
import onnxruntime as ort
import torch
from mmpose.apis import init_model

import refine_plugin  # noqa: F401  (registers the plugin's modules)
from refine_plugin.deploy import HeatmapNetwork, export_onnx
from refine_plugin.deploy.onnx_export import OPSET_VERSION


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint', help="a checkpoint file, or 'none' for random weights")
    parser.add_argument('out_file')
    parser.add_argument('--no-flip', action='store_true',
                        help='export without the flip test (half the cost, slightly lower AP)')
    parser.add_argument('--opset', type=int, default=OPSET_VERSION,
                        help=f'{OPSET_VERSION} or later (Col2Im)')
    return parser.parse_args()


def main():
    args = parse_args()
    # tracing MMPose's heads warns about their shape assertions, which hold for fixed inputs
    warnings.filterwarnings('ignore', category=torch.jit.TracerWarning)
    checkpoint = None if args.checkpoint.lower() == 'none' else args.checkpoint
    cfg_options = dict(model=dict(test_cfg=dict(flip_test=False))) if args.no_flip else None
    model = init_model(args.config, checkpoint, device='cpu', cfg_options=cfg_options).eval()
    metadata = export_onnx(model, args.out_file, opset_version=args.opset)

    # the exported graph must compute what the unfolded PyTorch network computes
    input_w, input_h = metadata['codec']['input_size']
    images = torch.randn(2, 3, input_h, input_w)
    with torch.no_grad():
        expected = HeatmapNetwork.from_test_cfg(model, model.dataset_meta['flip_indices'])(images)
    session = ort.InferenceSession(args.out_file, providers=['CPUExecutionProvider'])
    heatmaps = session.run(None, {'images': images.numpy()})[0]
    error = np.abs(heatmaps - expected.numpy()).max() / max(np.abs(expected.numpy()).max(), 1e-12)
    print(f"wrote {args.out_file}: input {input_h}x{input_w}, codec {metadata['codec']['type']}, "
          f"flip test {'in graph' if metadata['flip_test'] else 'off'}, "
          f'max relative heatmap error vs PyTorch {error:.1e}')


if __name__ == '__main__':
    main()

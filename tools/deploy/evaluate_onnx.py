"""COCO keypoint AP of exported ONNX pose models on ground-truth boxes, run by ONNX Runtime or
OpenVINO.

With several models or runtimes, also how far each row's keypoints lie from the first row's (e.g.
an int8 model against its fp32 export, or OpenVINO in bfloat16 against ONNX Runtime)::

    python tools/deploy/evaluate_onnx.py model.onnx model_int8.onnx \
        --ann data/synthetic/annotations/person_keypoints_val.json --img-dir data/synthetic/val
    python tools/deploy/evaluate_onnx.py model.onnx --runtimes onnxruntime openvino-bf16 \
        --ann data/synthetic/annotations/person_keypoints_val.json --img-dir data/synthetic/val

A result's score is its mean keypoint score (the boxes are the ground truth's).
"""
import argparse
import os.path as osp

import mmengine

from refine_plugin.deploy.annotated_people import predict_annotated_people, print_agreement_table
from refine_plugin.deploy.ort_pose import RUNTIMES, open_pose_model


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('models', nargs='+', help='.onnx files written by export_onnx.py')
    parser.add_argument('--ann', required=True, help='COCO keypoint annotations')
    parser.add_argument('--img-dir', required=True)
    parser.add_argument('--runtimes', nargs='+', choices=RUNTIMES, default=['onnxruntime'],
                        help='run each model on each of these (rows in this order per model)')
    parser.add_argument('--out-dir', help='also write each row\'s results JSON here')
    return parser.parse_args()


def predictions(args):
    """``(name, results, keypoints)`` of each model on each runtime, in the order given."""
    for model_file in args.models:
        for runtime in args.runtimes:
            inferencer = open_pose_model(model_file, runtime)
            results, keypoints = predict_annotated_people(inferencer, args.ann, args.img_dir)
            name = osp.basename(model_file)
            if len(args.runtimes) > 1:
                name += f' ({runtime})'
            if args.out_dir:
                mmengine.dump(results, osp.join(args.out_dir,
                                                name.replace(' ', '_') + '.keypoints.json'))
            yield name, results, keypoints


def main():
    args = parse_args()
    try:
        print_agreement_table(args.ann, predictions(args))
    except ValueError as error:
        raise SystemExit(str(error))


if __name__ == '__main__':
    main()

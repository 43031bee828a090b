"""COCO keypoint AP of exported ONNX pose models on ground-truth boxes, run by ONNX Runtime.

With several models, also how far each one's keypoints lie from the first model's (e.g. an int8
model against its fp32 export)::

    python tools/deploy/evaluate_onnx.py model.onnx model_int8.onnx \
        --ann data/synthetic/annotations/person_keypoints_val.json --img-dir data/synthetic/val

A result's score is its mean keypoint score (the boxes are the ground truth's).
"""
import argparse
import os.path as osp

import mmengine

from refine_plugin.deploy import OnnxPoseInferencer
from refine_plugin.deploy.annotated_people import predict_annotated_people, print_agreement_table


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('models', nargs='+', help='.onnx files written by export_onnx.py')
    parser.add_argument('--ann', required=True, help='COCO keypoint annotations')
    parser.add_argument('--img-dir', required=True)
    parser.add_argument('--out-dir', help='also write each model\'s results JSON here')
    return parser.parse_args()


def predictions(args):
    """``(name, results, keypoints)`` of each model, in the order given."""
    for model_file in args.models:
        inferencer = OnnxPoseInferencer(model_file, providers=['CPUExecutionProvider'])
        results, keypoints = predict_annotated_people(inferencer, args.ann, args.img_dir)
        if args.out_dir:
            mmengine.dump(results, osp.join(args.out_dir,
                                            osp.basename(model_file) + '.keypoints.json'))
        yield osp.basename(model_file), results, keypoints


def main():
    args = parse_args()
    try:
        print_agreement_table(args.ann, predictions(args))
    except ValueError as error:
        raise SystemExit(str(error))


if __name__ == '__main__':
    main()

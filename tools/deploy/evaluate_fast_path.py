"""COCO keypoint AP of the fast PyTorch path on ground-truth boxes, per dtype, and how far each
dtype's keypoints lie from float32's (e.g. bfloat16 on a CPU with AMX)::

    python tools/deploy/evaluate_fast_path.py CONFIG CHECKPOINT \
        --ann data/synthetic/annotations/person_keypoints_val.json --img-dir data/synthetic/val

Crops and decoding are ``OnnxPoseInferencer``'s, so the rows compare with
``tools/deploy/evaluate_onnx.py``'s. A result's score is its mean keypoint score.
"""
import argparse
import time

import torch
from mmpose.apis import init_model

from refine_plugin.deploy import FastPoseInferencer, native_bfloat16_cpu
from refine_plugin.deploy.annotated_people import predict_annotated_people, print_agreement_table

DTYPES = {'float32': torch.float32, 'bfloat16': torch.bfloat16}


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('--ann', required=True, help='COCO keypoint annotations')
    parser.add_argument('--img-dir', required=True)
    parser.add_argument('--dtypes', nargs='+', choices=list(DTYPES), default=list(DTYPES),
                        help='the first is the reference of the distances')
    parser.add_argument('--device', default='cpu')
    return parser.parse_args()


def predictions(args, model):
    """``(name, results, keypoints)`` of the fast path in each dtype, in the order given."""
    for name in args.dtypes:
        inferencer = FastPoseInferencer(model, dtype=DTYPES[name])
        start = time.perf_counter()
        results, keypoints = predict_annotated_people(inferencer, args.ann, args.img_dir)
        print(f'{name}: {len(keypoints)} people in {time.perf_counter() - start:.1f} s '
              '(crops and decoding included)', flush=True)
        yield f'fast PyTorch {name}', results, keypoints


def main():
    args = parse_args()
    model = init_model(args.config, args.checkpoint, device=args.device)
    print(f'CPU with native bfloat16 arithmetic: {native_bfloat16_cpu()}')
    try:
        print_agreement_table(args.ann, predictions(args, model))
    except ValueError as error:
        raise SystemExit(str(error))


if __name__ == '__main__':
    main()

"""COCO keypoint AP of exported ONNX pose models on ground-truth boxes, run by ONNX Runtime.

With several models, also how far each one's keypoints lie from the first model's (e.g. an int8
model against its fp32 export)::

    python tools/deploy/evaluate_onnx.py model.onnx model_int8.onnx \
        --ann data/synthetic/annotations/person_keypoints_val.json --img-dir data/synthetic/val

A result's score is its mean keypoint score (the boxes are the ground truth's).
"""
import argparse
import json
import os.path as osp

import numpy as np

from refine_plugin.apis import coco_ap
from refine_plugin.deploy import OnnxPoseInferencer
from refine_plugin.deploy.annotated_people import annotated_people


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('models', nargs='+', help='.onnx files written by export_onnx.py')
    parser.add_argument('--ann', required=True, help='COCO keypoint annotations')
    parser.add_argument('--img-dir', required=True)
    parser.add_argument('--out-dir', help='also write each model\'s results JSON here')
    return parser.parse_args()


def predict(model_file, ann_file, img_dir):
    """(results list, keypoints (N, K, 2)) of one model on every annotated person."""
    inferencer = OnnxPoseInferencer(model_file, providers=['CPUExecutionProvider'])
    results, all_keypoints = [], []
    for image_id, image, bboxes in annotated_people(ann_file, img_dir):
        keypoints, scores = inferencer(image, bboxes)
        for person, person_scores in zip(keypoints, scores):
            results.append(dict(
                image_id=image_id, category_id=1, score=float(person_scores.mean()),
                keypoints=np.concatenate([person, person_scores[:, None]], 1).ravel().tolist()))
        all_keypoints.append(keypoints)
    return results, np.concatenate(all_keypoints)


def main():
    args = parse_args()
    print('| model | AP | AP50 | AP75 | AR | px from first: median | p95 | max |')
    print('|---|---|---|---|---|---|---|---|')
    reference = None
    for model_file in args.models:
        try:
            results, keypoints = predict(model_file, args.ann, args.img_dir)
        except ValueError as error:
            raise SystemExit(str(error))
        if args.out_dir:
            out_file = osp.join(args.out_dir, osp.basename(model_file) + '.keypoints.json')
            with open(out_file, 'w') as f:
                json.dump(results, f)
        stats = coco_ap(args.ann, results)
        reference = keypoints if reference is None else reference
        distance = np.linalg.norm(keypoints - reference, axis=-1)
        print(f"| {osp.basename(model_file)} | {stats['AP']:.4f} | {stats['AP50']:.4f} | "
              f"{stats['AP75']:.4f} | {stats['AR']:.4f} | {np.median(distance):.2f} | "
              f'{np.percentile(distance, 95):.2f} | {distance.max():.2f} |')


if __name__ == '__main__':
    main()

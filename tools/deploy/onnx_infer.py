"""Keypoints from an exported ONNX pose model on one image, with ONNX Runtime or OpenVINO only.

Needs numpy, opencv-python and onnxruntime (or openvino): ``refine_plugin/deploy/ort_pose`` is
loaded from its folder without importing the plugin, MMPose, MMCV or torch (the folder can be
copied anywhere).

    python tools/deploy/onnx_infer.py model.onnx image.jpg --bboxes 10 20 110 230 --out vis.jpg
    python tools/deploy/onnx_infer.py model.onnx image.jpg --runtime openvino-bf16
"""
import argparse
import importlib.util
import json
import sys
from pathlib import Path

import cv2
import numpy as np

ORT_POSE = Path(__file__).resolve().parents[2] / 'refine_plugin' / 'deploy' / 'ort_pose'


def load_ort_pose(folder=ORT_POSE):
    spec = importlib.util.spec_from_file_location('ort_pose', folder / '__init__.py',
                                                  submodule_search_locations=[str(folder)])
    module = importlib.util.module_from_spec(spec)
    sys.modules['ort_pose'] = module
    spec.loader.exec_module(module)
    return module


def parse_args(runtimes):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('model')
    parser.add_argument('image')
    parser.add_argument('--bboxes', type=float, nargs='+',
                        help='person boxes x1 y1 x2 y2 ...; default: the whole image')
    parser.add_argument('--out', help='write the image with the keypoints drawn here')
    parser.add_argument('--score-thr', type=float, default=0.3)
    parser.add_argument('--runtime', default='onnxruntime', choices=runtimes,
                        help='openvino-bf16: bfloat16 on CPUs that have it (AVX512-BF16, AMX)')
    args = parser.parse_args()
    # checked before inference, so a bad --out or box is not found after the work is done
    if args.out is not None:
        if not Path(args.out).resolve().parent.is_dir():
            parser.error(f'--out {args.out}: its folder does not exist')
        if not cv2.haveImageWriter(args.out):
            parser.error(f'--out {args.out}: OpenCV cannot write this image format')
    if args.bboxes is not None:
        if len(args.bboxes) % 4:
            parser.error(f'--bboxes needs 4 numbers per box, got {len(args.bboxes)}')
        for index, (x1, y1, x2, y2) in enumerate(np.reshape(args.bboxes, (-1, 4))):
            if not (x2 > x1 and y2 > y1):
                parser.error(f'--bboxes: box {index} [{x1:g}, {y1:g}, {x2:g}, {y2:g}] is not '
                             'x1 y1 x2 y2 with x2 > x1 and y2 > y1')
    return args


def main():
    ort_pose = load_ort_pose()
    args = parse_args(ort_pose.RUNTIMES)
    image = cv2.imread(args.image)
    if image is None:
        raise SystemExit(f'{args.image}: cannot read the image')
    height, width = image.shape[:2]
    if args.bboxes is None:
        bboxes = np.array([[0, 0, width - 1, height - 1]], np.float32)
    else:
        bboxes = np.array(args.bboxes, np.float32).reshape(-1, 4)
    try:
        inferencer = ort_pose.open_pose_model(args.model, args.runtime)
    except ValueError as error:  # a missing model file, or not an exported pose model
        raise SystemExit(str(error))
    keypoints, scores = inferencer(image, bboxes)
    print(json.dumps([dict(bbox=b.tolist(), keypoints=k.round(2).tolist(),
                           scores=s.round(3).tolist())
                      for b, k, s in zip(bboxes, keypoints, scores)]))
    if args.out:
        for person, person_scores in zip(keypoints, scores):
            for (x, y), score in zip(person, person_scores):
                if score >= args.score_thr:
                    cv2.circle(image, (int(round(x)), int(round(y))), 3, (0, 255, 0), -1)
        if not cv2.imwrite(args.out, image):
            raise SystemExit(f'{args.out}: the image could not be written')


if __name__ == '__main__':
    main()

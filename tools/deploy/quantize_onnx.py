"""Quantize an exported ONNX pose model to int8, calibrated on the people of a COCO-format set.

    python tools/deploy/quantize_onnx.py model.onnx model_int8.onnx \
        --ann data/synthetic/annotations/person_keypoints_train.json --img-dir data/synthetic/train

Calibrate on images like the ones the model will see (its training set will do). Check the int8
model's AP against the fp32 one's before using it: ``tools/deploy/evaluate_onnx.py``.
"""
import argparse

from refine_plugin.deploy.quantization import calibration_crops, quantize_pose_model


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('model', help='an .onnx file written by tools/deploy/export_onnx.py')
    parser.add_argument('out_file')
    parser.add_argument('--ann', required=True, help='COCO keypoint annotations for calibration')
    parser.add_argument('--img-dir', required=True, help='the folder of their images')
    parser.add_argument('--num-persons', type=int, default=64,
                        help='annotated people to calibrate on')
    args = parser.parse_args()
    if args.num_persons < 1:
        parser.error(f'--num-persons must be positive, got {args.num_persons}')
    return args


def main():
    args = parse_args()
    try:
        crops = calibration_crops(args.model, args.ann, args.img_dir, args.num_persons)
    except ValueError as error:  # a bad annotation or image, named by the message
        raise SystemExit(str(error))
    quantize_pose_model(args.model, args.out_file, crops)
    print(f'wrote {args.out_file}: int8, calibrated on {len(crops)} people of {args.ann}')


if __name__ == '__main__':
    main()

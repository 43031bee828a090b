"""Person boxes -> pose model or ensemble -> PoseFix -> COCO keypoint results, with an AP table.

Examples:
    # val2017 with detected boxes, an ensemble, then PoseFix; prints the AP of every step
    python tools/pipeline.py configs/ensemble/ensemble_3xrefine50_coco-256x192-384x288.py \
        --ann-file data/coco/annotations/person_keypoints_val2017.json \
        --img-dir data/coco/val2017 \
        --bbox-file data/coco/person_detection_results/COCO_val2017_detections_AP_H_56_person.json \
        --refiner-config configs/posefix/<config>.py --refiner-checkpoint posefix.pth \
        --out-dir work_dirs/pipeline_val
    # test-dev (no ground truth): writes person_keypoints_test-dev2017_<name>_results.json
    python tools/pipeline.py CONFIG --checkpoint CKPT --split test-dev2017 --name refine50 \
        --ann-file data/coco/annotations/image_info_test-dev2017.json \
        --img-dir data/coco/test2017 --bbox-file DETECTIONS.json --out-dir work_dirs/test_dev
"""
import argparse
import os.path as osp

from mmengine.config import DictAction
from mmengine.fileio import put_text

import refine_plugin  # noqa: F401
from refine_plugin.apis import check_checkpoint_given, format_table, run_pipeline


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('pose_config', help='a top-down pose model or ensemble config')
    parser.add_argument('--checkpoint', help='pose model checkpoint (none for an ensemble)')
    parser.add_argument('--ann-file', required=True,
                        help='ground-truth keypoints, or an image list without annotations')
    parser.add_argument('--img-dir', required=True, help='the folder of the images')
    parser.add_argument('--bbox-file', help='person detections (COCO results format); '
                        'default: the ground-truth boxes of --ann-file')
    parser.add_argument('--bbox-score-thr', type=float, default=0.0,
                        help='drop detections scoring below this')
    parser.add_argument('--refiner-config', help='PoseFix config: refine the poses')
    parser.add_argument('--refiner-checkpoint', help='PoseFix checkpoint')
    parser.add_argument('--out-dir', required=True, help='where every step writes its results')
    parser.add_argument('--name', default='refineplugin',
                        help='the <name> of person_keypoints_<split>_<name>_results.json')
    parser.add_argument('--split', default='val2017', help='the <split> of the results file name')
    parser.add_argument('--device', help='device of the refiner (default: cuda if available)')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override pose config settings, e.g. model.members.0.checkpoint=member0.pth')
    args = parser.parse_args()
    if args.bbox_score_thr and not args.bbox_file:
        parser.error('--bbox-score-thr applies to --bbox-file detections; ground-truth boxes '
                     'have no score')
    if args.refiner_config and args.refiner_checkpoint is None:
        parser.error('--refiner-checkpoint is required with --refiner-config')
    try:
        check_checkpoint_given(args.pose_config, args.checkpoint, '--checkpoint')
    except ValueError as error:
        parser.error(str(error))
    return args


def main():
    args = parse_args()
    output = run_pipeline(
        args.pose_config, args.checkpoint, args.ann_file, args.img_dir, args.out_dir,
        bbox_file=args.bbox_file, bbox_score_thr=args.bbox_score_thr,
        refiner_config=args.refiner_config, refiner_checkpoint=args.refiner_checkpoint,
        submission_name=args.name, split=args.split, device=args.device,
        cfg_options=args.cfg_options)
    table = format_table(output['steps'])
    put_text(table + '\n', osp.join(args.out_dir, 'steps.md'))
    print(table)
    print(f'final results: {output["results_file"]}')


if __name__ == '__main__':
    main()

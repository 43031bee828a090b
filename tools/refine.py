"""Refine a COCO keypoint results file with a PoseFix refiner; print AP before/after with --ann.

    python tools/refine.py CONFIG CHECKPOINT --results IN.json --img-dir DIR --out OUT.json \
        [--ann GT.json] [--device cuda:0] [--batch-size 16]
"""
import argparse

import refine_plugin  # noqa: F401
from refine_plugin.apis import coco_ap, init_refiner, refine_results_file


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Refine COCO keypoint results with PoseFix')
    parser.add_argument('config', help='refiner config file')
    parser.add_argument('checkpoint', help='refiner checkpoint file')
    parser.add_argument('--results', required=True, help='COCO keypoint results JSON to refine')
    parser.add_argument('--img-dir', required=True, help='folder of the images')
    parser.add_argument('--out', required=True, help='refined results JSON to write')
    parser.add_argument('--ann', help='COCO keypoint ground truth: prints AP before and after '
                        'and maps image ids to file names')
    parser.add_argument('--device', default='cpu', help='e.g. cpu, cuda:0')
    parser.add_argument('--batch-size', type=positive_int, default=16)
    return parser.parse_args(argv)


def positive_int(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f'must be at least 1, got {value}')
    return value


def main(argv=None):
    args = parse_args(argv)
    model = init_refiner(args.config, args.checkpoint, device=args.device)
    refined = refine_results_file(model, args.results, args.img_dir, args.out,
                                  ann_file=args.ann, batch_size=args.batch_size)
    print(f'refined {len(refined)} poses -> {args.out}')
    if args.ann:
        before, after = coco_ap(args.ann, args.results), coco_ap(args.ann, refined)
        print(f'| {"":6} | {"AP":>6} | {"AP50":>6} | {"AP75":>6} | {"AR":>6} |')
        print('|--------|--------|--------|--------|--------|')
        for name, stats in (('before', before), ('after', after)):
            print(f'| {name:6} | ' + ' | '.join(f'{stats[k]:6.4f}' for k in
                                               ('AP', 'AP50', 'AP75', 'AR')) + ' |')
    return refined


if __name__ == '__main__':
    main()

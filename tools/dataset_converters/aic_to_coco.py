"""Convert AI Challenger keypoint annotations to a COCO keypoints file with COCO's 17 keypoints.

Reads the original AIC release (or MMPose's 14-keypoint ``aic_train.json``) and writes a file
that pycocotools and MMPose's ``CocoDataset`` load as COCO persons: the 12 limb joints at their
COCO indices, face joints unlabelled, head top and neck dropped, boxes as xywh, image sizes from
the image headers. Persons none of whose 12 COCO joints is labelled are left out and counted.

Example::

    python tools/dataset_converters/aic_to_coco.py \\
        data/aic/annotations/keypoint_train_annotations_20170909.json \\
        data/aic/ai_challenger_keypoint_train_20170902/keypoint_train_images_20170902 \\
        data/aic/annotations/aic_train_coco17.json
"""
import argparse

from mmengine.fileio import dump

from refine_plugin.datasets.aic_format import AIC_FORMATS, load_aic_as_coco


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('ann_file', help='AIC annotation file (original release or COCO-style)')
    parser.add_argument('img_dir', help='folder of the AIC images the annotations name')
    parser.add_argument('out_file', help='COCO keypoints JSON to write')
    parser.add_argument('--format', default='auto', choices=(*AIC_FORMATS, 'auto'),
                        help='format of ann_file (default: detected from the content)')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    coco, num_skipped = load_aic_as_coco(args.ann_file, args.img_dir, args.format)
    dump(coco, args.out_file, file_format='json')
    print(f'{args.out_file}: {len(coco["images"])} images, {len(coco["annotations"])} persons '
          f'({num_skipped} without a labelled COCO joint skipped)')


if __name__ == '__main__':
    main()

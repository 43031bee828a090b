"""Generate the synthetic multi-person keypoint dataset (COCO format) used by the CPU configs.

Example:
    python tools/generate_data.py data/synthetic --num-train 2000 --num-val 200 --seed 0 \
        --preview docs/synthetic_sample.jpg
"""
import argparse
import json
import os.path as osp
import time

import cv2
import mmcv
import numpy as np

from refine_plugin.datasets.synthetic import generate_dataset


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('out_dir', help='dataset root to create')
    parser.add_argument('--num-train', type=int, default=2000, help='training images')
    parser.add_argument('--num-val', type=int, default=200, help='validation images')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--image-size', type=int, nargs=2, default=(320, 240),
                        metavar=('W', 'H'))
    parser.add_argument('--person-height', type=int, nargs=2, default=(48, 216),
                        metavar=('MIN', 'MAX'), help='person height range in pixels')
    parser.add_argument('--people-per-image', type=int, nargs=2, default=(1, 4),
                        metavar=('MIN', 'MAX'))
    parser.add_argument('--occluder-prob', type=float, default=0.3)
    parser.add_argument('--clutter-shapes', type=int, nargs=2, default=(8, 30),
                        metavar=('MIN', 'MAX'), help='background clutter shapes per image')
    parser.add_argument('--workers', type=int, default=2, help='rendering processes')
    parser.add_argument('--preview', help='also write a JPEG of the first val images, each '
                        'beside its ground-truth skeletons')
    parser.add_argument('--preview-images', type=int, default=3)
    return parser.parse_args()


def write_preview(paths, out_file, num_images):
    """Rows of (image, image with its ground truth drawn by MMPose's PoseLocalVisualizer)."""
    from mmengine.structures import InstanceData
    from mmpose.datasets import CocoDataset
    from mmpose.datasets.datasets.utils import parse_pose_metainfo
    from mmpose.structures import PoseDataSample
    from mmpose.visualization import PoseLocalVisualizer

    with open(paths['val_ann']) as f:
        data = json.load(f)
    visualizer = PoseLocalVisualizer.get_instance('generate_data_preview', radius=2,
                                                  line_width=1)
    visualizer.set_dataset_meta(parse_pose_metainfo(CocoDataset.METAINFO))
    rows = []
    for image in data['images'][:num_images]:
        kpts = np.array([a['keypoints'] for a in data['annotations']
                         if a['image_id'] == image['id']], np.float32).reshape(-1, 17, 3)
        sample = PoseDataSample()
        sample.gt_instances = InstanceData(keypoints=kpts[..., :2],
                                           keypoints_visible=(kpts[..., 2] > 0).astype(np.float32))
        img = cv2.imread(osp.join(paths['val_img'], image['file_name']))
        visualizer.add_datasample('preview', img[..., ::-1], sample, draw_pred=False)
        rows.append(np.concatenate([img, visualizer.get_image()[..., ::-1]], 1))
    mmcv.imwrite(np.concatenate(rows, 0), out_file, [cv2.IMWRITE_JPEG_QUALITY, 80])
    print(f'preview -> {out_file}')


def main():
    args = parse_args()
    start = time.time()
    paths = generate_dataset(
        args.out_dir, args.num_train, args.num_val, seed=args.seed,
        image_size=tuple(args.image_size), person_height=tuple(args.person_height),
        people_per_image=tuple(args.people_per_image), occluder_prob=args.occluder_prob,
        clutter_shapes=tuple(args.clutter_shapes),
        num_workers=args.workers)
    for split in ('train', 'val'):
        with open(paths[f'{split}_ann']) as f:
            data = json.load(f)
        print(f'{split}: {len(data["images"])} images, {len(data["annotations"])} people '
              f'-> {paths[f"{split}_ann"]}')
    print(f'done in {time.time() - start:.1f}s')
    if args.preview:
        write_preview(paths, args.preview, args.preview_images)


if __name__ == '__main__':
    main()

"""Top-down demo: an image, a folder or a video -> person boxes -> poses -> drawn skeletons + JSON.

Persons come from an MMDetection detector (by default MMPose's RTMDet-m person model, downloaded
on first use) or from a boxes file (COCO detection results; image id = frame index of a video,
numeric file name of an image). Poses come from a top-down model or an ensemble config, then
optionally PoseFix; MMPose's PoseLocalVisualizer draws them.

Examples:
    python tools/demo.py demo.mp4 configs/ensemble/<config>.py --out-dir vis
    python tools/demo.py images/ CONFIG --pose-checkpoint CKPT --boxes-file boxes.json \
        --refiner-config configs/posefix/<config>.py --refiner-checkpoint posefix.pth --out-dir vis
"""
import argparse
import os
import os.path as osp
import tempfile

import cv2
import mmcv
import mmpose
import numpy as np
import torch
from mmengine.fileio import dump
from mmpose.structures import split_instances
from mmpose.visualization import PoseLocalVisualizer

import refine_plugin  # noqa: F401
from refine_plugin.apis import (check_checkpoint_given, detect_persons, estimate_image_poses,
                                init_person_detector, init_pose_estimator, init_refiner,
                                load_person_boxes)

IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp')
VIDEO_EXTENSIONS = ('.mp4', '.avi', '.mov', '.mkv')
DEFAULT_DET_CONFIG = osp.join(osp.dirname(mmpose.__file__), '.mim', 'demo', 'mmdetection_cfg',
                              'rtmdet_m_640-8xb32_coco-person.py')
DEFAULT_DET_CHECKPOINT = ('https://download.openmmlab.com/mmpose/v1/projects/rtmpose/'
                          'rtmdet_m_8xb32-100e_coco-obj365-person-235e8209.pth')


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('input', help='an image, a folder of images or a video')
    parser.add_argument('pose_config', help='a top-down pose model or ensemble config')
    parser.add_argument('--pose-checkpoint', help='pose checkpoint (none for an ensemble)')
    parser.add_argument('--det-config', default=DEFAULT_DET_CONFIG, help='MMDetection config')
    parser.add_argument('--det-checkpoint', default=DEFAULT_DET_CHECKPOINT)
    parser.add_argument('--det-cat-id', type=int, default=0, help="the detector's person class")
    parser.add_argument('--boxes-file', help='person boxes instead of a detector')
    parser.add_argument('--bbox-thr', type=float, default=0.3, help='person box score threshold')
    parser.add_argument('--nms-thr', type=float, default=0.3, help='box NMS IoU threshold')
    parser.add_argument('--refiner-config', help='PoseFix config: refine the poses')
    parser.add_argument('--refiner-checkpoint', help='PoseFix checkpoint')
    parser.add_argument('--kpt-thr', type=float, default=0.3, help='draw keypoints above this')
    parser.add_argument('--radius', type=int, default=3)
    parser.add_argument('--thickness', type=int, default=1)
    parser.add_argument('--out-dir', required=True, help='drawn images/video and predictions')
    parser.add_argument('--device', default='cuda:0' if torch.cuda.is_available() else 'cpu')
    args = parser.parse_args()
    if args.refiner_config and args.refiner_checkpoint is None:
        parser.error('--refiner-checkpoint is required with --refiner-config')
    try:
        check_checkpoint_given(args.pose_config, args.pose_checkpoint, '--pose-checkpoint')
    except ValueError as error:
        parser.error(str(error))
    # drawn images keep their input's name: written beside their inputs they would replace them
    input_dir = args.input if osp.isdir(args.input) else osp.dirname(args.input) or '.'
    if osp.realpath(args.out_dir) == osp.realpath(input_dir):
        parser.error(f'--out-dir {args.out_dir} is the folder of the input: the drawn outputs '
                     'would overwrite the input images')
    return args


def read_frames(path):
    """Yield ``(image id, name, BGR image, image file or None)`` of an image, folder or video."""
    if osp.isdir(path):
        names = sorted(n for n in os.listdir(path) if n.lower().endswith(IMAGE_EXTENSIONS))
        if not names:
            raise FileNotFoundError(f'{path}: no {"/".join(IMAGE_EXTENSIONS)} images')
        for name in names:
            yield from read_frames(osp.join(path, name))
    elif path.lower().endswith(VIDEO_EXTENSIONS):
        index = -1
        for index, frame in enumerate(mmcv.VideoReader(path)):
            yield index, f'frame {index}', frame, None
        if index < 0:  # OpenCV opens a corrupt file as a video of no frames
            raise ValueError(f'{path}: no frame could be decoded (a corrupt or unsupported video)')
    elif path.lower().endswith(IMAGE_EXTENSIONS):
        img = cv2.imread(path)
        if img is None:
            raise FileNotFoundError(f'cannot read the image {path}')
        stem = osp.splitext(osp.basename(path))[0]
        yield int(stem) if stem.isdigit() else stem, osp.basename(path), img, path
    else:
        raise ValueError(f'{path}: not a folder, an image ({IMAGE_EXTENSIONS}) or a video '
                         f'({VIDEO_EXTENSIONS})')


class BoxesFromFile:
    """``(image id, BGR image) -> (N, 5)`` person boxes of a boxes file; remembers the images
    it had no box for, since mismatched image ids otherwise look like images without people."""

    def __init__(self, boxes_file, bbox_thr):
        self.boxes_file = boxes_file
        self.boxes = load_person_boxes(boxes_file, bbox_thr)
        self.images_without_boxes = []

    def __call__(self, image_id, img):
        if not isinstance(image_id, int):
            raise ValueError(f'{self.boxes_file}: boxes are found by image id, but the image '
                             f'{image_id!r} has no numeric file name')
        if image_id not in self.boxes:
            self.images_without_boxes.append(image_id)
        return self.boxes.get(image_id, np.zeros((0, 5), np.float32))


def box_source(args):
    """A function ``(image id, BGR image) -> (N, 5) person boxes``."""
    if args.boxes_file:
        return BoxesFromFile(args.boxes_file, args.bbox_thr)
    detector = init_person_detector(args.det_config, args.det_checkpoint, device=args.device)
    return lambda image_id, img: detect_persons(detector, img, args.det_cat_id, args.bbox_thr,
                                                args.nms_thr)


def main():
    args = parse_args()
    pose_model = init_pose_estimator(args.pose_config, args.pose_checkpoint, device=args.device)
    refiner = (init_refiner(args.refiner_config, args.refiner_checkpoint, device=args.device)
               if args.refiner_config else None)
    person_boxes = box_source(args)
    visualizer = PoseLocalVisualizer(radius=args.radius, line_width=args.thickness)
    visualizer.set_dataset_meta(pose_model.dataset_meta)
    os.makedirs(args.out_dir, exist_ok=True)
    is_video = args.input.lower().endswith(VIDEO_EXTENSIONS)
    video_out = osp.join(args.out_dir, osp.splitext(osp.basename(args.input))[0] + '.mp4')
    # the video is written beside its final name and renamed when complete, as every other
    # output (mmcv.imwrite and dump go through the plugin's AtomicLocalBackend)
    partial_video = osp.join(args.out_dir, f'.{osp.basename(video_out)}.partial.mp4')
    writer, predictions = None, []
    with tempfile.TemporaryDirectory() as frame_dir:
        for image_id, name, img, img_path in read_frames(args.input):
            boxes = person_boxes(image_id, img)
            if refiner is not None and img_path is None:
                # PoseFix reads images from files: save the video frame losslessly
                img_path = osp.join(frame_dir, 'frame.png')
                cv2.imwrite(img_path, img)
            sample = estimate_image_poses(pose_model, img, boxes, refiner, img_path)
            visualizer.add_datasample(name, mmcv.bgr2rgb(img), data_sample=sample,
                                      draw_gt=False, draw_bbox=True, kpt_thr=args.kpt_thr)
            drawn = mmcv.rgb2bgr(visualizer.get_image())
            if is_video:
                if writer is None:
                    fps = mmcv.VideoReader(args.input).fps
                    writer = cv2.VideoWriter(partial_video, cv2.VideoWriter_fourcc(*'mp4v'), fps,
                                             (drawn.shape[1], drawn.shape[0]))
                writer.write(drawn)
            else:
                mmcv.imwrite(drawn, osp.join(args.out_dir, name))
            predictions.append(dict(image_id=image_id, name=name,
                                    instances=split_instances(sample.pred_instances)))
    if writer is not None:
        writer.release()
        os.replace(partial_video, video_out)
    # mmengine's dump writes the numpy arrays of the dataset meta as lists
    dump(dict(meta_info=pose_model.dataset_meta, predictions=predictions),
         osp.join(args.out_dir, 'predictions.json'))
    print(f'{len(predictions)} {"frames" if is_video else "images"} -> {args.out_dir}')
    missing = person_boxes.images_without_boxes if isinstance(person_boxes, BoxesFromFile) else []
    if missing:
        print(f'warning: {args.boxes_file} has no box above --bbox-thr for {len(missing)} of '
              f'{len(predictions)} {"frames" if is_video else "images"} (image ids '
              f'{", ".join(map(str, missing[:5]))}{", ..." if len(missing) > 5 else ""}); a '
              "frame's image id is its index, an image's its numeric file name")


if __name__ == '__main__':
    main()

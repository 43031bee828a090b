"""Write a synthetic multi-person keypoint dataset in COCO format: JPEG images plus
``annotations/person_keypoints_{train,val}.json``.

Each image has its own random generator seeded by (seed, split, index): the data are reproducible
and do not depend on the number of worker processes.
"""
from functools import partial
from multiprocessing import Pool
from pathlib import Path

import cv2
import numpy as np
from mmengine.fileio import dump

from ..input_checks import load_json
from .body import COCO_KEYPOINT_NAMES, COCO_SKELETON
from .scene import render_scene

SPLITS = ('train', 'val')
DESCRIPTION = 'refine_plugin synthetic keypoints'
# Raised whenever the same arguments would draw different data, so that an older generated dataset
# is recognised (version 2: relaxed-pose and frontal-view priors, rarer limb-like clutter).
GENERATOR_VERSION = 2
PERSON_CATEGORY = dict(id=1, name='person', supercategory='person',
                       keypoints=list(COCO_KEYPOINT_NAMES), skeleton=COCO_SKELETON)


def _render_image(index, split_id, seed, out_dir, options):
    rng = np.random.default_rng([seed, split_id, index])
    img, annotations = render_scene(rng, **options['scene'])
    name = f'{split_id * 10_000_000 + index + 1:012d}.jpg'
    cv2.imwrite(str(out_dir / name), img, [cv2.IMWRITE_JPEG_QUALITY, options['jpeg_quality']])
    return name, img.shape, annotations


def _write_split(split, num_images, seed, root, options, num_workers):
    img_dir = root / split
    img_dir.mkdir(parents=True, exist_ok=True)
    split_id = SPLITS.index(split)
    render = partial(_render_image, split_id=split_id, seed=seed, out_dir=img_dir,
                     options=options)
    if num_workers > 1:
        with Pool(num_workers) as pool:
            rendered = pool.map(render, range(num_images), chunksize=16)
    else:
        rendered = [render(i) for i in range(num_images)]

    images, annotations = [], []
    for index, (name, shape, anns) in enumerate(rendered):
        image_id = split_id * 10_000_000 + index + 1
        images.append(dict(id=image_id, file_name=name, height=shape[0], width=shape[1]))
        for ann in anns:
            annotations.append(dict(ann, id=image_id * 100 + len(annotations) % 100 + 1,
                                    image_id=image_id))
    ann_file = root / 'annotations' / f'person_keypoints_{split}.json'
    # Written last and atomically (AtomicLocalBackend): a split whose annotation file exists is
    # complete, which the main job relies on when it reuses existing data after a kill.
    dump(dict(info=dict(description=f'{DESCRIPTION}, {split}, seed {seed}',
                        version=GENERATOR_VERSION),
              images=images, annotations=annotations, categories=[PERSON_CATEGORY]),
         str(ann_file))
    return ann_file, img_dir


def generate_dataset(out_dir, num_train, num_val, seed=0, image_size=(320, 240),
                     person_height=(48, 216), people_per_image=(1, 4), occluder_prob=0.3,
                     clutter_shapes=(8, 30), jpeg_quality=90, num_workers=1):
    """Generate train and val splits under ``out_dir``.

    Args:
        out_dir: the dataset root (created).
        num_train, num_val: number of images per split.
        seed: the random seed; the same seed gives the same files.
        image_size: (width, height) of every image.
        person_height: (min, max) person height in pixels, log-uniform (default ratio 4.5).
        people_per_image: (min, max) number of people drawn in an image.
        occluder_prob: probability of each further foreground occluder in an image, in [0, 1).
        clutter_shapes: (min, max) number of background clutter shapes in an image.
        jpeg_quality: JPEG quality of the images.
        num_workers: processes rendering images in parallel.

    Returns:
        dict with absolute paths ``root``, ``train_ann``, ``val_ann``, ``train_img``, ``val_img``.
    """
    if person_height[0] <= 0 or person_height[1] < person_height[0]:
        raise ValueError(f'person_height must be 0 < min <= max, got {person_height}')
    if people_per_image[0] < 1 or people_per_image[1] < people_per_image[0]:
        raise ValueError(f'people_per_image must be 1 <= min <= max, got {people_per_image}')
    if not 0 <= occluder_prob < 1:
        raise ValueError(f'occluder_prob must be in [0, 1), got {occluder_prob}')
    if clutter_shapes[0] < 0 or clutter_shapes[1] < clutter_shapes[0]:
        raise ValueError(f'clutter_shapes must be 0 <= min <= max, got {clutter_shapes}')
    if min(image_size) <= 0:
        raise ValueError(f'image_size must be (width, height) > 0, got {image_size}')
    root = Path(out_dir).resolve()
    options = dict(jpeg_quality=jpeg_quality, scene=dict(
        width=image_size[0], height=image_size[1], people_range=people_per_image,
        height_range=person_height, occluder_prob=occluder_prob, clutter_shapes=clutter_shapes))
    paths = dict(root=str(root))
    for split, num in zip(SPLITS, (num_train, num_val)):
        ann_file, img_dir = _write_split(split, num, seed, root, options, num_workers)
        paths[f'{split}_ann'], paths[f'{split}_img'] = str(ann_file), str(img_dir)
    return paths


def is_outdated(ann_file):
    """Whether ``ann_file`` was written by an older version of this generator (files from
    anywhere else are never outdated)."""
    data = load_json(str(ann_file), 'annotation file')
    info = data.get('info', {}) if isinstance(data, dict) else {}
    return (str(info.get('description', '')).startswith(DESCRIPTION)
            and info.get('version') != GENERATOR_VERSION)

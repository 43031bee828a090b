"""The synthetic keypoint generator: COCO-valid files, COCO visibility semantics, body geometry,
scale variation, determinism, and loading through MMPose's CocoDataset."""
import json
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import pycocotools_stats
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from refine_plugin.datasets.synthetic import generate_dataset
from refine_plugin.datasets.synthetic.body import (ANGLE_LIMITS, CAMERA_PITCH_LIMIT,
                                                   COCO_KEYPOINT_NAMES, KPT, MEAN_PROPORTIONS,
                                                   PROPORTION_SPREAD, RELAXED_ANGLES, pose_body,
                                                   sample_angles, sample_yaw)
from refine_plugin.datasets.synthetic.render import PART, build_parts, sample_style

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope='module')
def dataset(tmp_path_factory):
    return generate_dataset(tmp_path_factory.mktemp('synthetic'), num_train=30, num_val=6,
                            seed=3)


def _load(path):
    with open(path) as f:
        return json.load(f)


def _keypoints(data):
    return np.array([a['keypoints'] for a in data['annotations']]).reshape(-1, 17, 3)


def test_layout_and_category(dataset):
    root = Path(dataset['root'])
    assert dataset['train_ann'] == str(root / 'annotations' / 'person_keypoints_train.json')
    for split in ('train', 'val'):
        data = _load(dataset[f'{split}_ann'])
        for img in data['images']:
            assert (Path(dataset[f'{split}_img']) / img['file_name']).is_file()
        (category,) = data['categories']
        assert category['name'] == 'person'
        assert tuple(category['keypoints']) == COCO_KEYPOINT_NAMES
        assert len(category['skeleton']) == 19
    train, val = _load(dataset['train_ann']), _load(dataset['val_ann'])
    assert len(train['images']) == 30 and len(val['images']) == 6
    assert not {i['id'] for i in train['images']} & {i['id'] for i in val['images']}


def test_ground_truth_scores_perfect_ap_in_pycocotools(dataset):
    """GT scored against itself gives AP = AR = 1: the files load and match in pycocotools."""
    gt = _load(dataset['val_ann'])
    results = [dict(image_id=a['image_id'], category_id=1, keypoints=a['keypoints'], score=1.0)
               for a in gt['annotations']]
    stats = pycocotools_stats(dataset['val_ann'], results)
    assert stats[0] == pytest.approx(1.0)
    assert stats[5] == pytest.approx(1.0)


def test_oks_of_shifted_ground_truth_follows_each_persons_area(dataset):
    """Scoring GT against itself gives OKS 1 whatever the area; moving every labelled joint by
    d px instead gives pycocotools' OKS the person's area sets: the mean over labelled joints of
    exp(-d^2 / (2 area (2 sigma)^2)), with pycocotools' own sigmas."""
    gt = COCO(dataset['val_ann'])
    shift = np.array([3.0, 4.0])  # d = 5 px: OKS on both sides of 0.5 at these sizes
    results = []
    for ann in gt.dataset['annotations']:
        keypoints = np.reshape(ann['keypoints'], (-1, 3)).copy()
        keypoints[keypoints[:, 2] > 0, :2] += shift
        results.append(dict(image_id=ann['image_id'], category_id=1,
                            keypoints=keypoints.ravel().tolist(), score=1.0))
    evaluator = COCOeval(gt, gt.loadRes(results), 'keypoints')
    variances = (2 * evaluator.params.kpt_oks_sigmas) ** 2
    evaluator._prepare()  # what evaluate() does before computeOks: gathers GT and results
    actual, expected = [], []
    for image_id in gt.getImgIds():
        anns = gt.loadAnns(gt.getAnnIds(imgIds=image_id))
        if not anns:
            continue
        # rows: this image's results (equal scores: kept in order), columns: its annotations
        oks = evaluator.computeOks(image_id, 1)
        actual.extend(np.diag(oks))
        for ann in anns:
            labelled = np.reshape(ann['keypoints'], (-1, 3))[:, 2] > 0
            expected.append(np.mean(np.exp(
                -(shift ** 2).sum() / (2 * ann['area'] * variances[labelled]))))
    assert len(actual) == len(gt.dataset['annotations'])
    np.testing.assert_allclose(actual, expected, rtol=1e-6)
    assert min(expected) < 0.5 < max(expected)  # the shift is on the scale of the tolerances


def test_area_and_box_are_those_of_the_segmentation(dataset):
    """``area`` is the silhouette's pixel count and ``bbox`` its extent: checked against
    pycocotools' rasterisation of the polygons, which runs through pixel centres and so covers
    up to about half a pixel less along the outline."""
    from pycocotools import mask as mask_utils
    gt = COCO(dataset['val_ann'])
    for ann in gt.loadAnns(gt.getAnnIds()):
        rasterised = gt.annToRLE(ann)
        assert 0.8 <= mask_utils.area(rasterised) / ann['area'] <= 1.05, ann['id']
        np.testing.assert_allclose(ann['bbox'], mask_utils.toBbox(rasterised), atol=2.01)


def test_visibility_follows_coco(dataset):
    data = _load(dataset['train_ann'])
    kpts = _keypoints(data)
    flags = kpts[..., 2]
    assert set(np.unique(flags)) == {0, 1, 2}, 'visible, occluded and unlabelled all occur'
    assert (kpts[flags == 0][:, :2] == 0).all()
    # occlusion is common but not the rule
    assert 0.1 < (flags == 1).sum() / (flags > 0).sum() < 0.6
    sizes = {i['id']: (i['width'], i['height']) for i in data['images']}
    for ann, k in zip(data['annotations'], kpts):
        w, h = sizes[ann['image_id']]
        labelled = k[k[:, 2] > 0]
        assert ann['num_keypoints'] == len(labelled) > 0
        assert ((labelled[:, 0] >= -0.5) & (labelled[:, 0] < w + 0.5)).all()
        assert ((labelled[:, 1] >= -0.5) & (labelled[:, 1] < h + 0.5)).all()
        x, y, bw, bh = ann['bbox']
        inside = ((labelled[:, 0] >= x - 2) & (labelled[:, 0] <= x + bw + 2)
                  & (labelled[:, 1] >= y - 2) & (labelled[:, 1] <= y + bh + 2))
        assert inside.all(), 'every labelled keypoint lies in its box'
        assert 0 < ann['area'] <= bw * bh


def test_person_scale_varies_at_least_fourfold(dataset):
    data = _load(dataset['train_ann'])
    kpts = _keypoints(data)
    # shoulder-to-hip distance of people with all four torso joints labelled measures body size
    full = (kpts[:, [5, 6, 11, 12], 2] > 0).all(1)
    shoulders = kpts[full][:, [5, 6], :2].mean(1)
    hips = kpts[full][:, [11, 12], :2].mean(1)
    torso = np.linalg.norm(shoulders - hips, axis=1)
    assert len(torso) > 20
    assert np.percentile(torso, 95) / np.percentile(torso, 5) > 2.5
    assert torso.max() / torso.min() > 4


def test_several_people_per_image(dataset):
    data = _load(dataset['train_ann'])
    per_image = np.bincount([a['image_id'] for a in data['annotations']])
    assert per_image.max() >= 3


def test_body_left_right_and_segment_lengths():
    """A person facing the camera has their left side on the image's right; seen from behind the
    face is hidden and the sides swap. Limb lengths are kept by every pose."""
    props = dict(MEAN_PROPORTIONS)
    angles = sample_angles(np.random.default_rng(0))
    front = pose_body(props, angles, yaw=0, camera_pitch=0, roll=0)
    back = pose_body(props, angles, yaw=180, camera_pitch=0, roll=0)
    for body, sign in ((front, 1), (back, -1)):
        dx = body.joints[KPT['left_hip'], 0] - body.joints[KPT['right_hip'], 0]
        assert np.sign(dx) == sign
        assert np.sign(body.face_normals[KPT['nose'], 2]) == sign
    for a, b, length in (('left_shoulder', 'left_elbow', 'upper_arm'),
                         ('right_elbow', 'right_wrist', 'forearm'),
                         ('left_hip', 'left_knee', 'thigh'), ('right_knee', 'right_ankle', 'shin')):
        assert np.linalg.norm(front.joints[KPT[a]] - front.joints[KPT[b]]) == pytest.approx(
            props[length])


def test_poses_cluster_near_relaxed_but_span_the_limits():
    """Angles stay within their limits, most near the relaxed stance, and every limit's range is
    still reached (the free fifth); half the people face the camera, the rest any way."""
    rng = np.random.default_rng(0)
    draws = [sample_angles(rng) for _ in range(3000)]
    for name, (lo, hi) in ANGLE_LIMITS.items():
        values = np.ravel([d[name] for d in draws])
        assert lo <= values.min() and values.max() <= hi
        assert values.min() < lo + 0.05 * (hi - lo) and values.max() > hi - 0.05 * (hi - lo)
        near = np.abs(values - RELAXED_ANGLES[name]) < (hi - lo) / 6
        # 0.8 x (68% of a normal, more where a limit clips it) + 0.2 x about a third
        assert 0.55 < near.mean() < 0.85
    yaw = (np.array([sample_yaw(rng) for _ in range(20000)]) + 180) % 360 - 180
    frontal, back = np.abs(yaw) < 60, np.abs(yaw) > 120
    assert frontal.mean() == pytest.approx(0.5 * 0.954 + 0.5 / 3, abs=0.02)
    assert back.mean() == pytest.approx(0.5 / 3, abs=0.02)


@pytest.mark.parametrize('yaw, printed', [(0, True), (60, True), (110, False), (180, False)])
def test_shirt_print_shows_the_front_only(yaw, printed):
    """The front/back cue of small people: a collar and chest print on the shirt's front only."""
    rng = np.random.default_rng(0)
    body = pose_body(dict(MEAN_PROPORTIONS), sample_angles(rng), yaw=yaw, camera_pitch=0, roll=0)
    style = sample_style(rng)
    parts, _ = build_parts(body, 100, (50, 60), style)
    torso = next(part for part in parts if part.part == PART['torso'])
    colours = [shape[-1] for shape in torso.shapes]
    assert (style.shirt_print in colours) == printed
    assert style.shirt_print != style.shirt


def test_same_seed_same_data_other_seed_other_data(dataset, tmp_path):
    again = generate_dataset(tmp_path / 'a', num_train=30, num_val=6, seed=3)
    assert _load(again['val_ann'])['annotations'] == _load(dataset['val_ann'])['annotations']
    other = generate_dataset(tmp_path / 'b', num_train=1, num_val=6, seed=4)
    assert _load(other['val_ann'])['annotations'] != _load(dataset['val_ann'])['annotations']


def test_parallel_workers_give_identical_files(tmp_path):
    one = generate_dataset(tmp_path / 'one', num_train=4, num_val=1, seed=1)
    two = generate_dataset(tmp_path / 'two', num_train=4, num_val=1, seed=1, num_workers=2)
    assert _load(one['train_ann']) == _load(two['train_ann'])


def test_sizes_are_arguments(tmp_path):
    """Image size, people per image and person height are honoured. ``person_height`` is the
    unposed body's height, which poses and views change; what stays bounded is the torso
    (shoulder to hip midpoints): its share of the height +-PROPORTION_SPREAD per person, tilted
    out of the image plane by at most the lean plus the camera pitch."""
    low, high = 60, 70
    paths = generate_dataset(tmp_path, num_train=3, num_val=1, seed=0, image_size=(200, 150),
                             person_height=(low, high), people_per_image=(2, 2))
    data = _load(paths['train_ann'])
    assert all((i['width'], i['height']) == (200, 150) for i in data['images'])
    # the hips are always in the image (pelvis placed inside it), so nobody is dropped
    per_image = np.bincount([a['image_id'] for a in data['annotations']])
    assert per_image[per_image > 0].tolist() == [2, 2, 2]

    kpts = _keypoints(data)
    assert (kpts[:, [5, 6, 11, 12], 2] > 0).all(), 'this draw labels every torso joint'
    torso = np.linalg.norm(kpts[:, [5, 6], :2].mean(1) - kpts[:, [11, 12], :2].mean(1), axis=1)
    lean = np.degrees(np.arccos(np.cos(np.radians(ANGLE_LIMITS['lean'][1]))
                                * np.cos(np.radians(ANGLE_LIMITS['side_lean'][1]))))
    shortest = (low * (1 - PROPORTION_SPREAD) * MEAN_PROPORTIONS['torso']
                * np.cos(np.radians(lean + CAMERA_PITCH_LIMIT)))
    longest = high * (1 + PROPORTION_SPREAD) * MEAN_PROPORTIONS['torso']
    assert ((shortest <= torso) & (torso <= longest)).all(), (shortest, torso, longest)


@pytest.mark.parametrize('bad', [dict(person_height=(0, 10)), dict(people_per_image=(3, 1))])
def test_bad_sizes_are_rejected(tmp_path, bad):
    with pytest.raises(ValueError, match=list(bad)[0]):
        generate_dataset(tmp_path, num_train=1, num_val=1, **bad)


def test_loads_in_mmpose_topdown_pipeline(dataset):
    from mmpose.datasets import CocoDataset
    from mmpose.utils import register_all_modules
    register_all_modules()  # the pipeline's transforms are looked up in MMPose's scope
    pipeline = [dict(type='LoadImage'), dict(type='GetBBoxCenterScale'),
                dict(type='TopdownAffine', input_size=(96, 128)),
                dict(type='GenerateTarget', encoder=dict(
                    type='MSRAHeatmap', input_size=(96, 128), heatmap_size=(24, 32), sigma=2)),
                dict(type='PackPoseInputs')]
    ds = CocoDataset(data_root=dataset['root'], ann_file='annotations/person_keypoints_train.json',
                     data_prefix=dict(img='train/'), data_mode='topdown', pipeline=pipeline)
    assert len(ds) == len(_load(dataset['train_ann'])['annotations'])
    sample = ds[0]
    assert tuple(sample['inputs'].shape) == (3, 128, 96)
    heatmaps = sample['data_samples'].gt_fields.heatmaps
    assert heatmaps.shape == (17, 32, 24) and heatmaps.max() > 0.5


def test_generate_data_tool(tmp_path, monkeypatch, capsys):
    sys.path.insert(0, str(REPO_ROOT / 'tools'))
    try:
        import generate_data
    finally:
        sys.path.pop(0)
    monkeypatch.setattr(sys, 'argv', ['generate_data.py', str(tmp_path), '--num-train', '2',
                                      '--num-val', '1', '--workers', '1'])
    generate_data.main()
    assert 'train: 2 images' in capsys.readouterr().out
    assert len(_load(tmp_path / 'annotations' / 'person_keypoints_val.json')['images']) == 1

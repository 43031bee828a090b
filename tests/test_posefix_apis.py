"""Refining COCO keypoint results files: same image ids, scores and count; clear input errors."""
import json
import os
import runpy
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import MAIN_JOB_CONFIG, MAIN_JOB_POSE_CONFIG, pycocotools_stats
from mmengine.runner import save_checkpoint

from refine_plugin.apis import (estimate_poses, image_paths_by_id, init_refiner,
                                refine_results, refine_results_file)

REPO = Path(__file__).resolve().parents[1]
CPU_CONFIG = str(REPO / 'configs' / 'posefix' / 'posefix_res18-c32_1xb32-30e_synthetic-128x96.py')


@pytest.fixture(scope='module')
def refiner():
    torch.manual_seed(0)
    return init_refiner(CPU_CONFIG, device='cpu')


def posefix_crop(keypoints, input_size=(96, 128), enlarge=1.2, min_size=16.0, padding=1.25):
    """Image corners ``(x0, y0), (x1, y1)`` of the crop the refiner sees for a COCO result's pose.

    Derived here from the refine pipeline's steps and their defaults, not from the plugin's code:
    the extent of the joints with score > 0, enlarged 1.2x with sides of at least 16 px
    (BBoxFromInputPose), padded 1.25x (GetBBoxCenterScale), widened to the input's aspect ratio
    (TopdownAffine).
    """
    keypoints = np.reshape(keypoints, (-1, 3))
    points = keypoints[keypoints[:, 2] > 0, :2]
    low, high = points.min(axis=0), points.max(axis=0)
    width, height = np.maximum((high - low) * enlarge, min_size) * padding
    aspect = input_size[0] / input_size[1]
    if width > height * aspect:
        height = width / aspect
    else:
        width = height * aspect
    centre = (low + high) / 2
    return centre - (width / 2, height / 2), centre + (width / 2, height / 2)


def check_refined_joints_inside_their_crops(refined, results):
    """Whatever the refiner's weights, its soft-argmax (DSNTHead) averages positions of its
    heatmap, so every refined joint (missing ones too) lies in the crop of its own input pose."""
    for index, (new, old) in enumerate(zip(refined, results)):
        low, high = posefix_crop(old['keypoints'])
        xy = np.reshape(new['keypoints'], (-1, 3))[:, :2]
        assert ((xy >= low - 0.01) & (xy <= high + 0.01)).all(), (
            f'result {index}: refined joints {xy.tolist()} outside the crop {low} - {high}')


def _check_refined_results(refined, results):
    assert len(refined) == len(results)
    for new, old in zip(refined, results):
        assert new['image_id'] == old['image_id']
        assert new['score'] == old['score']
        assert new.get('category_id') == old.get('category_id')
        new_kpts = np.reshape(new['keypoints'], (-1, 3))
        old_kpts = np.reshape(old['keypoints'], (-1, 3))
        np.testing.assert_array_equal(new_kpts[:, 2], old_kpts[:, 2])
        assert np.isfinite(new_kpts).all()
    check_refined_joints_inside_their_crops(refined, results)


def test_refine_real_results_keeps_ids_scores_and_count(refiner, shared_data):
    with open(shared_data / 'results' / 'example_coco_preds.json') as f:
        results = json.load(f)
    refined = refine_results(refiner, results, str(shared_data / 'coco'), batch_size=16)
    _check_refined_results(refined, results)
    moved = [np.abs(np.subtract(n['keypoints'], o['keypoints'])).max()
             for n, o in zip(refined, results)]
    assert max(moved) > 0  # the (x, y) are the refiner's, not copies


def test_refine_tool_prints_ap_before_and_after(refiner, shared_data, tmp_path, capsys):
    checkpoint = tmp_path / 'refiner.pth'
    save_checkpoint(dict(state_dict=refiner.state_dict(),
                         meta=dict(dataset_meta=refiner.dataset_meta)), str(checkpoint))
    results = shared_data / 'results' / 'mmpose_coco4_mediapipe-blazepose-full_gtbox_keypoints.json'
    out = tmp_path / 'out' / 'refined.json'
    argv = ['refine.py', CPU_CONFIG, str(checkpoint), '--results', str(results), '--img-dir',
            str(shared_data / 'coco'), '--out', str(out), '--ann',
            str(shared_data / 'coco' / 'test_coco.json'), '--batch-size', '4']
    old_argv, sys.argv = sys.argv, argv
    try:
        runpy.run_path(str(REPO / 'tools' / 'refine.py'), run_name='__main__')
    finally:
        sys.argv = old_argv
    printed = capsys.readouterr().out
    assert '| before | 0.5941 |' in printed  # the known AP of this file (shared data README)
    # the "after" row is pycocotools' AP of the refined file the tool wrote
    (after_row,) = [line for line in printed.splitlines() if line.startswith('| after  |')]
    after_ap = float(after_row.split('|')[2])
    assert after_ap == pytest.approx(
        pycocotools_stats(shared_data / 'coco' / 'test_coco.json', str(out))[0], abs=5e-5)
    _check_refined_results(json.loads(out.read_text()), json.loads(results.read_text()))


def test_refine_tool_scores_the_poses_it_writes(refiner, shared_data, tmp_path, capsys,
                                               monkeypatch):
    """The table's rows are the AP of the input and of the written file, checked where both are
    far from 0: the refiner is replaced by one that moves every other pose's joints 4 px right
    (an untrained refiner's poses score 0, which any wrong row would match too)."""
    import refine_plugin.apis.posefix as posefix

    def shift_every_other_pose(model, results, img_dir, **kwargs):
        return [dict(r, keypoints=(np.reshape(r['keypoints'], (-1, 3)) + (4 * (i % 2), 0, 0))
                     .ravel().tolist()) for i, r in enumerate(results)]

    monkeypatch.setattr(posefix, 'refine_results', shift_every_other_pose)
    checkpoint = tmp_path / 'refiner.pth'
    save_checkpoint(dict(state_dict=refiner.state_dict(),
                         meta=dict(dataset_meta=refiner.dataset_meta)), str(checkpoint))
    results = shared_data / 'results' / 'example_coco_preds.json'
    ann = shared_data / 'coco' / 'test_coco.json'
    out = tmp_path / 'refined.json'
    monkeypatch.setattr(sys, 'argv', [
        'refine.py', CPU_CONFIG, str(checkpoint), '--results', str(results), '--img-dir',
        str(shared_data / 'coco'), '--out', str(out), '--ann', str(ann)])
    runpy.run_path(str(REPO / 'tools' / 'refine.py'), run_name='__main__')
    rows = {line.split('|')[1].strip(): [float(x) for x in line.split('|')[2:6]]
            for line in capsys.readouterr().out.splitlines()
            if line.startswith(('| before', '| after'))}
    before, after = pycocotools_stats(ann, str(results)), pycocotools_stats(ann, str(out))
    np.testing.assert_allclose(rows['before'], np.take(before, [0, 1, 2, 5]), atol=5e-5)
    np.testing.assert_allclose(rows['after'], np.take(after, [0, 1, 2, 5]), atol=5e-5)
    assert 0.1 < rows['after'][0] < rows['before'][0] - 0.01


def test_refine_tool_refuses_a_batch_size_below_one(shared_data, tmp_path, capsys):
    argv = ['refine.py', CPU_CONFIG, 'refiner.pth', '--results', 'r.json', '--img-dir',
            str(shared_data / 'coco'), '--out', str(tmp_path / 'o.json'), '--batch-size', '0']
    old_argv, sys.argv = sys.argv, argv
    try:
        with pytest.raises(SystemExit) as exit_info:
            runpy.run_path(str(REPO / 'tools' / 'refine.py'), run_name='__main__')
    finally:
        sys.argv = old_argv
    assert exit_info.value.code == 2
    assert 'argument --batch-size: must be at least 1, got 0' in capsys.readouterr().err


def test_main_job_refiner_crops_each_pose_in_its_box(tiny_coco, tmp_path):
    """The main job's refiner crops around the box a pose was estimated in (the ``bbox`` MMPose
    writes into its results), so before fine-tuning, started from the pose model with its pose
    channels at zero, it returns the pose model's keypoints: PoseFix starts from no loss."""
    from mmengine.config import Config
    from mmpose.apis import init_model
    torch.manual_seed(0)
    pose_model = init_model(str(MAIN_JOB_POSE_CONFIG), device='cpu')
    checkpoint = str(tmp_path / 'pose_model.pth')
    torch.save(dict(state_dict=pose_model.state_dict()), checkpoint)
    pose_file = estimate_poses(str(MAIN_JOB_POSE_CONFIG), checkpoint, tiny_coco['val_ann'],
                               tiny_coco['val_img'], str(tmp_path / 'pose'))
    with open(pose_file) as f:
        results = json.load(f)
    assert results and all('bbox' in result for result in results)

    cfg = Config.fromfile(str(MAIN_JOB_CONFIG))
    cfg.model.init_cfg.checkpoint = checkpoint
    refiner = init_refiner(cfg)
    refiner.init_weights()
    image_paths = image_paths_by_id(tiny_coco['val_img'], tiny_coco['val_ann'])

    def keypoints(poses):
        return np.array([np.reshape(pose['keypoints'], (-1, 3)) for pose in poses])

    refined = refine_results(refiner, results, tiny_coco['val_img'], image_paths=image_paths)
    np.testing.assert_allclose(keypoints(refined), keypoints(results), atol=1e-3)
    # without boxes the crops are the poses' extents, and the keypoints move
    without_boxes = [{key: value for key, value in result.items() if key != 'bbox'}
                     for result in results]
    moved = refine_results(refiner, without_boxes, tiny_coco['val_img'], image_paths=image_paths)
    assert np.abs(keypoints(moved) - keypoints(results))[..., :2].max() > 1


def test_refine_file_with_annotation_file_names(refiner, tiny_coco, tmp_path):
    """Images found through the annotation file; ground-truth poses as results."""
    with open(tiny_coco['val_ann']) as f:
        anns = json.load(f)['annotations']
    results = [dict(image_id=a['image_id'], category_id=1, keypoints=a['keypoints'],
                    score=0.5 + i / 100) for i, a in enumerate(anns) if a['num_keypoints'] > 0]
    results_file = tmp_path / 'gt_as_results.json'
    results_file.write_text(json.dumps(results))
    refined = refine_results_file(refiner, str(results_file), tiny_coco['val_img'],
                                  str(tmp_path / 'refined.json'), ann_file=tiny_coco['val_ann'],
                                  batch_size=8)
    _check_refined_results(refined, results)
    assert json.loads((tmp_path / 'refined.json').read_text()) == refined


def test_bad_inputs_name_the_file_and_item(refiner, tiny_coco, tmp_path):
    with open(tiny_coco['val_ann']) as f:
        images = json.load(f)['images']
    result = dict(image_id=images[0]['id'], category_id=1, keypoints=[10.0, 10.0, 1.0] * 17,
                  score=0.9)
    bad_results = [
        (dict(result, image_id=424242), r'my\.json, result 1: image_id 424242 is not in'),
        (dict(result, keypoints=[10.0, 10.0, 1.0] * 14), r'my\.json, result 1: keypoints must be '
         r'a flat list of 51 numbers'),
        (dict(result, keypoints=[None, 10.0, 1.0] * 17), r'my\.json, result 1: keypoints hold a '
         'non-finite'),
        ({'image_id': images[0]['id'], 'keypoints': []}, r'my\.json, result 1: needs the fields'),
        ('not a result', r'my\.json, result 1: needs the fields'),
        (dict(result, bbox=[10.0, 10.0, 0.0, 20.0]), r'my\.json, result 1: bbox \[10\.0, 10\.0, '
         r'0\.0, 20\.0\] has no area to crop'),
        (dict(result, bbox=[10.0, 10.0, 20.0, -1.0]), r'my\.json, result 1: bbox .* has a '
         'negative width or height'),
        (dict(result, bbox=[10.0, 10.0, 20.0]), r'my\.json, result 1: bbox must be \[x, y, w, h\]'),
        (dict(result, bbox=[10.0, float('nan'), 20.0, 20.0]), r'my\.json, result 1: bbox .* holds '
         'a NaN'),
    ]
    for bad, message in bad_results:
        with pytest.raises(ValueError, match=message):
            refine_results(refiner, [result, bad], tiny_coco['val_img'], source='my.json')
    with pytest.raises(ValueError, match=r'my\.json: expected a non-empty list'):
        refine_results(refiner, [], tiny_coco['val_img'], source='my.json')

    missing_image = Path(tiny_coco['val_img']) / images[1]['file_name']
    with pytest.raises(FileNotFoundError, match=rf'my\.json: result 0 refers to image '
                       rf'{images[1]["id"]}, not found \({missing_image}x\)'):
        refine_results(refiner, [dict(result, image_id=images[1]['id'])], tiny_coco['val_img'],
                       image_paths={images[1]['id']: f'{missing_image}x'}, source='my.json')

    # a negative batch size used to refine nothing and write an empty results file
    with pytest.raises(ValueError, match='batch_size must be at least 1, got -1'):
        refine_results(refiner, [result], tiny_coco['val_img'], batch_size=-1)
    with pytest.raises(FileNotFoundError, match=f'image folder {tmp_path / "nowhere"} not found'):
        refine_results(refiner, [result], str(tmp_path / 'nowhere'))
    unnamed = tmp_path / 'unnamed'
    unnamed.mkdir()
    (unnamed / 'photo.jpg').write_bytes((Path(tiny_coco['val_img']) /
                                         images[0]['file_name']).read_bytes())
    with pytest.raises(FileNotFoundError, match=f'{unnamed}: no image is named by its id'):
        refine_results(refiner, [result], str(unnamed))

    results_file = tmp_path / 'results.json'
    out_file = tmp_path / 'o.json'
    for content, message in [('[{"image_id": 1,', r'results\.json: keypoint results file is not '
                              r'valid JSON \(line 1, column'),
                             (b'\xff\xfe[]', 'results.json: keypoint results file is not UTF-8'),
                             ('{"image_id": 1}', r'results\.json: expected a non-empty list')]:
        getattr(results_file, 'write_bytes' if isinstance(content, bytes) else 'write_text')(
            content)
        with pytest.raises(ValueError, match=message):
            refine_results_file(refiner, str(results_file), tiny_coco['val_img'], str(out_file))
    assert not out_file.exists()

    ann_file = tmp_path / 'ann.json'
    ann_file.write_text(json.dumps(dict(images=[dict(id=1)], annotations=[])))
    results_file.write_text(json.dumps([result]))
    with pytest.raises(ValueError, match=r'ann\.json, image 0: needs id and file_name'):
        refine_results_file(refiner, str(results_file), tiny_coco['val_img'], str(out_file),
                            ann_file=str(ann_file))


def test_an_interrupted_write_keeps_the_input(refiner, tiny_coco, tmp_path, monkeypatch):
    """Refining a file in place: a crash while writing leaves the original results whole."""
    with open(tiny_coco['val_ann']) as f:
        anns = json.load(f)['annotations']
    results = [dict(image_id=a['image_id'], category_id=1, keypoints=a['keypoints'], score=0.5)
               for a in anns[:3]]
    results_file = tmp_path / 'results.json'
    results_file.write_text(json.dumps(results))

    def killed_mid_write(fd):
        raise KeyboardInterrupt  # as a kill after the refined results were written, not synced

    monkeypatch.setattr(os, 'fsync', killed_mid_write)
    with pytest.raises(KeyboardInterrupt):
        refine_results_file(refiner, str(results_file), tiny_coco['val_img'], str(results_file),
                            ann_file=tiny_coco['val_ann'])
    monkeypatch.undo()
    assert json.loads(results_file.read_text()) == results
    assert [p.name for p in tmp_path.iterdir()] == ['results.json']

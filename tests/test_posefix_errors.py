"""PoseFix's synthesized input poses: rates as configured, each error in its distance band."""
import numpy as np
import pytest

from refine_plugin.datasets.transforms.synthesize_pose_errors import (
    COCO_SIGMAS, ERROR_TYPES, GOOD, INVERSION, JITTER, MISS, SWAP, SynthesizePoseErrors,
    oks_distance)

COCO_FLIP = [0, 2, 1, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11, 14, 13, 16, 15]
# The nose has no counterpart, so it gets its own group without inversions and every drawn error
# is possible; the counted rates then must equal the configured ones.
GROUPS = dict(nose=[0], face=[1, 2, 3, 4], upper=[5, 6, 7, 8, 9, 10],
              lower=[11, 12, 13, 14, 15, 16])


def _table(jitter, inversion, swap, miss):
    return dict(jitter=jitter, inversion=inversion, swap=swap, miss=miss)


PROBABILITIES = dict(
    alone=dict(nose=_table(0.10, 0, 0, 0.05), face=_table(0.10, 0.03, 0, 0.05),
               upper=_table(0.12, 0.04, 0, 0.07), lower=_table(0.15, 0.06, 0, 0.08)),
    alone_few_joints=dict(nose=_table(0.2, 0, 0, 0.1), face=_table(0.2, 0.05, 0, 0.1),
                          upper=_table(0.22, 0.06, 0, 0.12), lower=_table(0.25, 0.08, 0, 0.15)),
    crowded=dict(nose=_table(0.1, 0, 0.04, 0.05), face=_table(0.12, 0.03, 0.04, 0.06),
                 upper=_table(0.14, 0.05, 0.06, 0.08), lower=_table(0.16, 0.07, 0.08, 0.1)),
    crowded_few_joints=dict(nose=_table(0.2, 0, 0.1, 0.1), face=_table(0.18, 0.04, 0.08, 0.12),
                            upper=_table(0.2, 0.06, 0.1, 0.14),
                            lower=_table(0.2, 0.08, 0.12, 0.16)))

AREA, OTHER_AREA = 6000.0, 9000.0
# Fewer than 10 labelled joints, every one but the nose with its counterpart labelled.
FEW_JOINTS = [0, 1, 2, 5, 6, 11, 12, 13, 14]


def _person(rng, crowded: bool, few_joints: bool) -> dict:
    keypoints = rng.uniform(100, 200, size=(1, 17, 2)).astype(np.float32)
    visible = np.zeros((1, 17), np.float32)
    visible[0, FEW_JOINTS if few_joints else slice(None)] = 1
    results = dict(keypoints=keypoints, keypoints_visible=visible, area=np.float32(AREA),
                   bbox=np.array([[100, 100, 200, 200]], np.float32), flip_indices=COCO_FLIP,
                   img_path='person.jpg', id=1)
    # An overlapping person (IoU 0.6) for the crowded cases, a far one (IoU 0) otherwise.
    other_box = [120, 100, 220, 200] if crowded else [400, 400, 500, 500]
    results.update(
        other_keypoints=rng.uniform(100, 200, size=(1, 17, 2)).astype(np.float32),
        other_keypoints_visible=np.ones((1, 17), np.float32),
        other_bboxes=np.array([other_box], np.float32),
        other_areas=np.array([OTHER_AREA], np.float32))
    return results


@pytest.mark.parametrize('case', list(PROBABILITIES))
def test_error_rates_and_distance_bands(case):
    np.random.seed(0)
    rng = np.random.default_rng(0)
    synthesize = SynthesizePoseErrors(PROBABILITIES, joint_groups=GROUPS)
    crowded, few_joints = case.startswith('crowded'), case.endswith('few_joints')
    sigmas = np.asarray(COCO_SIGMAS)
    counts = {group: np.zeros(len(ERROR_TYPES)) for group in GROUPS}
    num_persons = 20000 // (2 if few_joints else 4)  # >= 20k joints in each group but the nose
    for _ in range(num_persons):
        results = synthesize(_person(rng, crowded, few_joints))
        errors = results['input_pose_errors'][0]
        visible = results['keypoints_visible'][0] > 0
        truth, pose = results['keypoints'][0], results['input_pose'][0]
        centre = truth.copy()
        centre[errors == INVERSION] = truth[COCO_FLIP][errors == INVERSION]
        centre[errors == SWAP] = results['other_keypoints'][0][errors == SWAP]
        area = np.where(errors == SWAP, OTHER_AREA, AREA)
        distance = np.linalg.norm(pose - centre, axis=1)
        d85, d50, d10 = (oks_distance(t, sigmas, area) for t in (0.85, 0.5, 0.1))
        low = np.select([errors == JITTER, errors == MISS], [d85, d50], 0)
        high = np.select([errors == JITTER, errors == MISS], [d50, d10], d85)
        assert np.all((distance[visible] >= low[visible] - 1e-3)
                      & (distance[visible] < high[visible] + 1e-3))
        assert np.all(results['input_pose_visible'][0] == visible)
        for group, ids in GROUPS.items():
            ids = [i for i in ids if visible[i]]
            counts[group] += np.bincount(errors[ids], minlength=len(ERROR_TYPES))
    labelled = FEW_JOINTS if few_joints else range(17)
    for group, table in PROBABILITIES[case].items():
        samples = counts[group].sum()
        assert samples == num_persons * np.isin(GROUPS[group], labelled).sum(), group
        rates = counts[group] / samples
        expected = [1 - sum(table.values())] + [table[name] for name in ERROR_TYPES[1:]]
        # 1.5 points at 20k samples; a rate's spread grows as 1/sqrt(samples) (the nose's 5-10k)
        np.testing.assert_allclose(rates, expected, atol=0.015 * np.sqrt(20000 / samples),
                                   err_msg=f'{case} {group}')
    if not crowded:
        assert counts['upper'][SWAP] == 0


def test_oks_distance_gives_that_oks():
    sigmas = np.asarray(COCO_SIGMAS)
    for oks in (0.85, 0.5, 0.1):
        d = oks_distance(oks, sigmas, AREA)
        coco_oks = np.exp(-d**2 / (2 * sigmas)**2 / AREA / 2)  # COCOeval's per-joint formula
        np.testing.assert_allclose(coco_oks, oks, rtol=1e-6)


def test_impossible_errors_fall_back_to_jitter():
    """Without a labelled counterpart or an overlapping person, inversion/swap become jitter."""
    np.random.seed(1)
    always = dict(group=dict(jitter=0, inversion=0.5, swap=0.5, miss=0))
    probabilities = dict(alone=dict(group=dict(jitter=0.0, inversion=1.0, swap=0.0, miss=0.0)),
                         alone_few_joints=dict(group=_table(0, 1.0, 0, 0)),
                         crowded=always, crowded_few_joints=always)
    synthesize = SynthesizePoseErrors(probabilities, joint_groups=dict(group=list(range(17))))
    results = _person(np.random.default_rng(1), crowded=True, few_joints=False)
    results['keypoints_visible'][0, 1::2] = 0  # left joints unlabelled: no counterparts
    results['other_keypoints_visible'][0, :9] = 0  # the other person labels joints 9.. only
    errors = synthesize(results)['input_pose_errors'][0]
    labelled = results['keypoints_visible'][0] > 0
    assert set(errors[labelled & (np.arange(17) < 9)]) <= {JITTER}
    assert set(errors[labelled]) <= {JITTER, SWAP}
    assert np.all(errors[~labelled] == GOOD)


def test_configuration_errors_are_clear():
    bad = {case: dict(PROBABILITIES[case]) for case in PROBABILITIES}
    bad['alone']['upper'] = _table(0.1, 0, 0.05, 0)
    with pytest.raises(ValueError, match='alone.*upper.*swap'):
        SynthesizePoseErrors(bad, joint_groups=GROUPS)
    with pytest.raises(KeyError, match='crowded_few_joints'):
        SynthesizePoseErrors({k: v for k, v in PROBABILITIES.items() if k != 'crowded_few_joints'},
                             joint_groups=GROUPS)
    with pytest.raises(ValueError, match='cover'):
        SynthesizePoseErrors(PROBABILITIES, joint_groups=dict(
            nose=[0], face=[1, 2, 3, 4], upper=[5, 6, 7, 8, 9, 10], lower=[11, 12]))
    synthesize = SynthesizePoseErrors(PROBABILITIES, joint_groups=GROUPS)
    results = _person(np.random.default_rng(0), crowded=False, few_joints=False)
    results['keypoints'] = results['keypoints'][:, :14]
    results['keypoints_visible'] = results['keypoints_visible'][:, :14]
    with pytest.raises(ValueError, match=r'person\.jpg .*14 keypoints.*17 sigmas'):
        synthesize(results)


def test_samples_without_the_other_persons_are_rejected():
    results = _person(np.random.default_rng(0), crowded=False, few_joints=False)
    del results['other_bboxes']
    with pytest.raises(KeyError, match=r'person\.jpg .*PoseFixCocoDataset'):
        SynthesizePoseErrors(PROBABILITIES, joint_groups=GROUPS)(results)

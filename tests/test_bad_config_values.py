"""Bad config values are rejected at construction with a ValueError naming the option and value."""
import pytest

import refine_plugin  # noqa: F401
from refine_plugin.datasets.synthetic import generate_dataset
from refine_plugin.datasets.transforms.synthesize_pose_errors import (COCO_JOINT_GROUPS, CASES,
                                                                      SynthesizePoseErrors)
from refine_plugin.models.backbones import MultiStageRefineNet
from refine_plugin.models.pose_estimators.posefix_refiner import PoseFixRefiner

ERRORS = dict(jitter=0.1, inversion=0.0, swap=0.0, miss=0.05)


def _probabilities(groups, **face_errors):
    """The same errors for every case and group, ``face_errors`` for the ``face`` group."""
    return {case: {group: dict(face_errors) if group == 'face' and face_errors else ERRORS
                   for group in groups} for case in CASES}


def test_misspelt_error_types_are_rejected():
    # with the default of 0 for an absent type, these typos made every face joint "good"
    with pytest.raises(ValueError, match=r"\['face'\].*\['jiter', 'mis'\].*allowed.*'jitter'"):
        SynthesizePoseErrors(_probabilities(COCO_JOINT_GROUPS, jiter=0.5, mis=0.3))


@pytest.mark.parametrize('joint_groups, message', [
    (dict(COCO_JOINT_GROUPS, upper=(4, 5, 6, 7, 8, 9, 10)), r"joint 4 .*'face'.*'upper'"),
    (dict(COCO_JOINT_GROUPS, lower=(11, 12, 13, 14, 15, 16, 17)), r"\['lower'\].*17.*0\.\.16"),
    (dict(COCO_JOINT_GROUPS, face=(0, 1, 2, 3, -1)), r"\['face'\].*-1.*0\.\.16"),
])
def test_joint_groups_must_be_disjoint_joint_ids(joint_groups, message):
    with pytest.raises(ValueError, match=message):
        SynthesizePoseErrors(_probabilities(joint_groups), joint_groups=joint_groups)


@pytest.mark.parametrize('sigma', [0, -7.0, float('nan')])
def test_input_pose_sigma_must_be_positive(sigma):
    num_joints = 2
    with pytest.raises(ValueError, match=f'input_pose_sigma.*{sigma}'):
        PoseFixRefiner(
            backbone=dict(type='ResNet', depth=18, in_channels=3 + num_joints, stem_channels=8,
                          base_channels=8),
            head=dict(type='HeatmapHead', in_channels=64, out_channels=num_joints,
                      deconv_out_channels=None),
            input_pose_sigma=sigma)


TINY_NET = dict(block='Bottleneck', num_stages=1, num_units=2, num_blocks=[1, 1],
                unit_channels=8, base_channels=4)


@pytest.mark.parametrize('bad, message', [
    (dict(num_blocks=[1, 0]), r'num_blocks.*\[1, 0\]'),
    (dict(num_blocks=[-1, 1]), r'num_blocks.*\[-1, 1\]'),
    (dict(base_channels=0), 'base_channels.*0'),
    (dict(unit_channels=-1), 'unit_channels.*-1'),
    (dict(in_channels=0), 'in_channels.*0'),
])
def test_multi_stage_refine_net_sizes_must_be_positive(bad, message):
    with pytest.raises(ValueError, match=message):
        MultiStageRefineNet(**dict(TINY_NET, **bad))


# no images are drawn (the old code hung on occluder_prob=1 only while drawing one)
@pytest.mark.parametrize('bad, message', [
    (dict(occluder_prob=1.0), r'occluder_prob.*1\.0'),
    (dict(occluder_prob=-0.1), r'occluder_prob.*-0\.1'),
    (dict(clutter_shapes=(30, 8)), r'clutter_shapes.*\(30, 8\)'),
    (dict(clutter_shapes=(-1, 8)), r'clutter_shapes.*\(-1, 8\)'),
    (dict(image_size=(320, 0)), r'image_size.*\(320, 0\)'),
])
def test_bad_generator_options_are_rejected(tmp_path, bad, message):
    with pytest.raises(ValueError, match=message):
        generate_dataset(tmp_path, num_train=0, num_val=0, **bad)

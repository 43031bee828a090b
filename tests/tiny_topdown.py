"""A tiny top-down heatmap config for the engine tests (seconds per epoch on one CPU core).

A 16-channel ResNet-18 with only its first two stages, one deconvolution, 64x48 inputs; trained
with the plugin's ``ExactResumeEpochBasedTrainLoop`` and a checkpoint after every iteration.
"""
from pathlib import Path

TEMPLATE = '''
_base_ = ['mmpose::_base_/default_runtime.py']
custom_imports = dict(imports={imports!r}, allow_failed_imports=False)
work_dir = {work_dir!r}
train_cfg = dict(
    _delete_=True, type='ExactResumeEpochBasedTrainLoop', max_epochs={max_epochs},
    val_interval=1000)
optim_wrapper = dict(optimizer=dict(type='Adam', lr=1e-3))
param_scheduler = [dict(type='MultiStepLR', by_epoch=True, milestones=[1], gamma=0.5)]
randomness = dict(seed=0, deterministic=True)
default_hooks = dict(
    checkpoint=dict(type='CheckpointHook', interval=1, by_epoch=False),
    logger=dict(type='LoggerHook', interval=1))
custom_hooks = {custom_hooks!r}
codec = dict(type='MSRAHeatmap', input_size=(48, 64), heatmap_size=(12, 16), sigma=2)
model = dict(
    type='TopdownPoseEstimator',
    data_preprocessor=dict(
        type='PoseDataPreprocessor', mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True),
    backbone=dict(
        type='ResNet', depth=18, stem_channels=16, base_channels=16, num_stages=2, strides=(1, 2),
        dilations=(1, 1), out_indices=(1, )),
    head=dict(
        type='HeatmapHead', in_channels=32, out_channels=17, deconv_out_channels=(32, ),
        deconv_kernel_sizes=(4, ), loss=dict(type='KeypointMSELoss', use_target_weight=True),
        decoder=codec),
    test_cfg=dict(flip_test=False))
train_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='RandomFlip', direction='horizontal'),
    dict(type='RandomBBoxTransform'),
    dict(type='TopdownAffine', input_size=codec['input_size']),
    dict(type='GenerateTarget', encoder=codec),
    dict(type='PackPoseInputs')
]
val_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='TopdownAffine', input_size=codec['input_size']),
    dict(type='PackPoseInputs')
]
train_dataloader = dict(
    batch_size={batch_size}, num_workers={num_workers}, persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type='CocoDataset', data_root={root!r}, data_mode='topdown',
        ann_file='annotations/person_keypoints_train.json', data_prefix=dict(img='train/'),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=4, num_workers=0, persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='CocoDataset', data_root={root!r}, data_mode='topdown',
        ann_file='annotations/person_keypoints_val.json', data_prefix=dict(img='val/'),
        test_mode=True, pipeline=val_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='CocoMetric', ann_file={val_ann!r})
test_evaluator = val_evaluator
'''


def write_tiny_config(path, data, work_dir, max_epochs=2, batch_size=2, num_workers=0,
                      custom_hooks=(), extra_imports=()):
    """Write the config for the ``tiny_coco`` dataset ``data`` to ``path`` and return the path."""
    text = TEMPLATE.format(
        imports=['refine_plugin', *extra_imports], work_dir=str(work_dir), max_epochs=max_epochs,
        batch_size=batch_size, num_workers=num_workers, custom_hooks=list(custom_hooks),
        root=data['root'], val_ann=data['val_ann'])
    Path(path).write_text(text)
    return Path(path)

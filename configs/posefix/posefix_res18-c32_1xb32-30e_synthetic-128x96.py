# PoseFix refiner small enough to train on a CPU: ResNet-18 at half width (32 stem/base channels)
# from scratch, 128x96 input, 64-channel deconvolutions, on the plugin's generated COCO-format data
# (refine_plugin.datasets.synthetic.generate_dataset(data_root, ...)).
_base_ = ['mmpose::_base_/default_runtime.py', './_base_/pose_error_probabilities.py',
          './_base_/posefix_meta_keys.py']
custom_imports = dict(imports=['refine_plugin'], allow_failed_imports=False)

train_cfg = dict(max_epochs=30, val_interval=10)
optim_wrapper = dict(optimizer=dict(type='Adam', lr=1e-3))
param_scheduler = [
    dict(type='LinearLR', begin=0, end=50, start_factor=0.01, by_epoch=False),
    dict(type='MultiStepLR', begin=0, end=30, milestones=[20, 26], gamma=0.1, by_epoch=True)
]
auto_scale_lr = dict(base_batch_size=32)
default_hooks = dict(
    checkpoint=dict(save_best='coco/AP', rule='greater', max_keep_ckpts=1),
    logger=dict(interval=10))

num_joints = 17
input_size = (96, 128)
codec = dict(type='IntegralRegressionLabel', input_size=input_size, heatmap_size=(24, 32),
             sigma=1.0, normalize=True)

model = dict(
    type='PoseFixRefiner',
    input_pose_sigma=3.5,  # PoseFix's 7 px at 256x192, scaled to 128x96
    data_preprocessor=dict(type='PoseDataPreprocessor', mean=[123.675, 116.28, 103.53],
                           std=[58.395, 57.12, 57.375], bgr_to_rgb=True),
    backbone=dict(type='ResNet', depth=18, in_channels=3 + num_joints, stem_channels=32,
                  base_channels=32),
    head=dict(
        type='DSNTHead',
        in_channels=256,
        in_featuremap_size=(3, 4),
        num_joints=num_joints,
        deconv_out_channels=(64, 64, 64),
        loss=dict(type='MultipleLossWrapper', losses=[
            dict(type='L1Loss', use_target_weight=True),
            dict(type='HeatmapCrossEntropyLoss', use_target_weight=True, loss_weight=0.01)]),
        decoder=codec),
    test_cfg=dict(flip_test=True, shift_coords=True))

dataset_type = 'PoseFixCocoDataset'
data_mode = 'topdown'
data_root = 'data/synthetic/'

train_pipeline = [
    dict(type='LoadImage'),
    dict(type='SynthesizePoseErrors', probabilities={{_base_.pose_error_probabilities}}),
    dict(type='BBoxFromInputPose'),
    dict(type='GetBBoxCenterScale'),
    dict(type='RandomFlip', direction='horizontal'),
    dict(type='RandomBBoxTransform', scale_factor=(0.75, 1.25), rotate_factor=30),
    dict(type='TopdownAffine', input_size=input_size),
    dict(type='WarpInputPose'),
    dict(type='GenerateTarget', encoder=codec),
    dict(type='PackPoseInputs', meta_keys={{_base_.posefix_meta_keys}})
]
# Validation refines freshly synthesized poses of the validation people.
val_pipeline = [
    dict(type='LoadImage'),
    dict(type='SynthesizePoseErrors', probabilities={{_base_.pose_error_probabilities}}),
    dict(type='BBoxFromInputPose'),
    dict(type='GetBBoxCenterScale'),
    dict(type='TopdownAffine', input_size=input_size),
    dict(type='WarpInputPose'),
    dict(type='PackPoseInputs', meta_keys={{_base_.posefix_meta_keys}})
]
# Refining a results file (refine_plugin.apis.refine_results, tools/refine.py): the input pose
# comes from the results, not from the ground truth.
refine_pipeline = [
    dict(type='LoadImage'),
    dict(type='BBoxFromInputPose'),
    dict(type='GetBBoxCenterScale'),
    dict(type='TopdownAffine', input_size=input_size),
    dict(type='WarpInputPose'),
    dict(type='PackPoseInputs', meta_keys={{_base_.posefix_meta_keys}})
]

train_dataloader = dict(
    batch_size=32, num_workers=1, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type=dataset_type, data_root=data_root, data_mode=data_mode,
                 ann_file='annotations/person_keypoints_train.json',
                 data_prefix=dict(img='train/'), pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=32, num_workers=1, persistent_workers=True, drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False, round_up=False),
    dataset=dict(type=dataset_type, data_root=data_root, data_mode=data_mode,
                 ann_file='annotations/person_keypoints_val.json',
                 data_prefix=dict(img='val/'), test_mode=True, pipeline=val_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='CocoMetric',
                     ann_file=data_root + 'annotations/person_keypoints_val.json')
test_evaluator = val_evaluator

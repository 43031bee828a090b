# PoseFix with a ResNet-50 backbone at 256x192 (PoseFix, Moon et al. CVPR 2019; the report's Table 4
# refiner): Adam 5e-4, 140 epochs, steps at 90 and 120, batch 16 per GPU on 8 GPUs, trained on COCO
# train2017 ground truth with synthesized input poses. Refine any estimator's results with
#   python tools/refine.py CONFIG CHECKPOINT --results IN.json --img-dir DIR --out OUT.json
_base_ = ['mmpose::_base_/default_runtime.py', './_base_/pose_error_probabilities.py',
          './_base_/posefix_meta_keys.py']
custom_imports = dict(imports=['refine_plugin'], allow_failed_imports=False)

train_cfg = dict(max_epochs=140, val_interval=10)
optim_wrapper = dict(optimizer=dict(type='Adam', lr=5e-4))
param_scheduler = [
    dict(type='LinearLR', begin=0, end=500, start_factor=0.001, by_epoch=False),  # warm-up
    dict(type='MultiStepLR', begin=0, end=140, milestones=[90, 120], gamma=0.1, by_epoch=True)
]
auto_scale_lr = dict(base_batch_size=128)
default_hooks = dict(checkpoint=dict(save_best='coco/AP', rule='greater'))

num_joints = 17
input_size = (192, 256)
# soft-argmax coordinates and the heatmap they come from (3 stride-2 deconvs: 1/4 resolution)
codec = dict(type='IntegralRegressionLabel', input_size=input_size, heatmap_size=(48, 64),
             sigma=1.0, normalize=True)

model = dict(
    type='PoseFixRefiner',
    input_pose_sigma=7.0,
    data_preprocessor=dict(type='PoseDataPreprocessor', mean=[123.675, 116.28, 103.53],
                           std=[58.395, 57.12, 57.375], bgr_to_rgb=True),
    # ImageNet weights fill the 3 image channels of the stem; the 17 pose channels start at zero
    backbone=dict(type='ResNet', depth=50, in_channels=3 + num_joints,
                  init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet50')),
    head=dict(
        type='DSNTHead',  # 3 deconvs (256 channels, 4x4, stride 2), 1x1 conv to K, soft-argmax
        in_channels=2048,
        in_featuremap_size=(6, 8),
        num_joints=num_joints,
        loss=dict(type='MultipleLossWrapper', losses=[
            dict(type='L1Loss', use_target_weight=True),
            dict(type='HeatmapCrossEntropyLoss', use_target_weight=True, loss_weight=0.01)]),
        decoder=codec),
    test_cfg=dict(flip_test=True, shift_coords=True))

dataset_type = 'PoseFixCocoDataset'
data_mode = 'topdown'
data_root = 'data/coco/'

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
# Validation refines freshly synthesized poses of the val2017 people.
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
# comes from the results.
refine_pipeline = [
    dict(type='LoadImage'),
    dict(type='BBoxFromInputPose'),
    dict(type='GetBBoxCenterScale'),
    dict(type='TopdownAffine', input_size=input_size),
    dict(type='WarpInputPose'),
    dict(type='PackPoseInputs', meta_keys={{_base_.posefix_meta_keys}})
]

train_dataloader = dict(
    batch_size=16, num_workers=4, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type=dataset_type, data_root=data_root, data_mode=data_mode,
                 ann_file='annotations/person_keypoints_train2017.json',
                 data_prefix=dict(img='train2017/'), pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=32, num_workers=4, persistent_workers=True, drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False, round_up=False),
    dataset=dict(type=dataset_type, data_root=data_root, data_mode=data_mode,
                 ann_file='annotations/person_keypoints_val2017.json',
                 data_prefix=dict(img='val2017/'), test_mode=True, pipeline=val_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='CocoMetric',
                     ann_file=data_root + 'annotations/person_keypoints_val2017.json')
test_evaluator = val_evaluator

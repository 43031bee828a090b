# A 2-stage MultiStageRefineNet with Refine blocks, narrowed to train in minutes on a 2-core CPU, on
# the plugin's generated data (tools/generate_data.py data/synthetic). Same recipe as MMPose's
# 4xMSPN-50 (coarse-to-fine targets, OHKM on the last unit of each stage) at 128x96, from scratch
# (no weights can be downloaded on the CPU machine), with a short Adam schedule.
# Narrowed where the CPU time goes: 3 encoder levels of one block each (stride 4 to 16, enough
# for a 128x96 crop), 16 base channels and 32-channel decoder units.
_base_ = ['mmpose::_base_/default_runtime.py']
custom_imports = dict(imports=['refine_plugin'], allow_failed_imports=False)

train_cfg = dict(max_epochs=12, val_interval=3)
optim_wrapper = dict(optimizer=dict(type='Adam', lr=2e-3))
param_scheduler = [
    dict(type='LinearLR', begin=0, end=100, start_factor=0.01, by_epoch=False),
    dict(type='CosineAnnealingLR', begin=0, end=12, T_max=12, eta_min=2e-5, by_epoch=True,
         convert_to_iter_based=True)
]
auto_scale_lr = dict(base_batch_size=32)
default_hooks = dict(
    checkpoint=dict(save_best='coco/AP', rule='greater', max_keep_ckpts=1),
    logger=dict(interval=20))

num_stages, num_units = 2, 3
input_size = (96, 128)
# Coarse-to-fine Gaussians as MSPN's, but MSRA targets peaking at 1: MegviiHeatmap's peak at 255
# needs the predictors' last BN to grow a hundredfold, which a few CPU epochs of Adam cannot do.
codec = [dict(type='MSRAHeatmap', input_size=input_size, heatmap_size=(24, 32), sigma=sigma)
         for sigma in (2.0, 1.7, 1.4, 1.1)]

model = dict(
    type='TopdownPoseEstimator',
    data_preprocessor=dict(type='PoseDataPreprocessor', mean=[123.675, 116.28, 103.53],
                           std=[58.395, 57.12, 57.375], bgr_to_rgb=True),
    backbone=dict(type='MultiStageRefineNet', block='RefineBottleneck', num_stages=num_stages,
                  num_units=num_units, num_blocks=(1, 1, 1), unit_channels=32,
                  base_channels=16),
    # The predictors end in BN: at MSPNHead's default gamma=1 the first few hundred iterations
    # only shrink the outputs to the targets' scale (std ~0.1); starting there saves them.
    head=dict(type='MultiStageRefineHead', num_stages=num_stages, num_units=num_units,
              out_shape=(32, 24), unit_channels=32, out_channels=17, decoder=codec[-1],
              init_cfg=[dict(type='Kaiming', layer='Conv2d'),
                        dict(type='Constant', layer='BatchNorm2d', val=0.1)]),
    test_cfg=dict(flip_test=True, flip_mode='heatmap', shift_heatmap=False))

dataset_type = 'CocoDataset'
data_mode = 'topdown'
data_root = 'data/synthetic/'

train_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='RandomFlip', direction='horizontal'),
    dict(type='RandomHalfBody'),
    dict(type='RandomBBoxTransform'),
    dict(type='TopdownAffine', input_size=input_size),
    dict(type='GenerateTarget', multilevel=True, encoder=codec),
    dict(type='PackPoseInputs')
]
val_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='TopdownAffine', input_size=input_size),
    dict(type='PackPoseInputs')
]

train_dataloader = dict(
    batch_size=32, num_workers=2, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type=dataset_type, data_root=data_root, data_mode=data_mode,
                 ann_file='annotations/person_keypoints_train.json',
                 data_prefix=dict(img='train/'), pipeline=train_pipeline))
# ground-truth boxes: the generated data have no person detector
val_dataloader = dict(
    batch_size=32, num_workers=2, persistent_workers=True, drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False, round_up=False),
    dataset=dict(type=dataset_type, data_root=data_root, data_mode=data_mode,
                 ann_file='annotations/person_keypoints_val.json',
                 data_prefix=dict(img='val/'), test_mode=True, pipeline=val_pipeline))
test_dataloader = val_dataloader
# one prediction per ground-truth box: no NMS between overlapping people
val_evaluator = dict(type='CocoMetric', nms_mode='none',
                     ann_file=data_root + 'annotations/person_keypoints_val.json')
test_evaluator = val_evaluator

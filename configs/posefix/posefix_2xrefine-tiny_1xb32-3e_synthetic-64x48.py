# PoseFix for the main job (tools/main_job.py) until 2026-12-04, when its 96x72 version
# (posefix_2xrefine-tiny_1xb32-1e_synthetic-96x72.py) took over: the refiner is the 64x48 pose network
# (../cpu/td-hm_2xrefine-tiny_1xb16-22e_synthetic-64x48.py) with 3 + 17 input channels, initialised
# from that trained pose model and fine-tuned on synthesized pose errors for a few epochs.
# Why it departs from PoseFix's recipe (ResNet + DSNTHead, initialised from ImageNet; the
# posefix_res18-c32 config is that recipe at CPU size): nothing pretrained can be downloaded here,
# and a refiner trained from scratch needs tens of epochs to localise joints at all (after the main
# job's 3 epochs it turned the pose model's AP 0.28 into 0.000). Started from the pose model,
# with its pose channels at zero, the refiner first predicts exactly what the pose model does, and
# fine-tuning is to teach it to use the input pose; in the 3 epochs below it has not learnt to
# improve on it yet.
# Train the pose model first and pass its checkpoint (tools/main_job.py does both):
#   python tools/train.py THIS_CONFIG \
#       --cfg-options model.init_cfg.checkpoint=work_dirs/main_job/pose_model/epoch_22.pth
_base_ = ['../cpu/td-hm_2xrefine-tiny_1xb16-22e_synthetic-64x48.py',
          './_base_/pose_error_probabilities.py', './_base_/posefix_meta_keys.py']

train_cfg = dict(max_epochs=3, val_interval=3)
# A gentle fine-tuning step: the larger the step, the more the refiner lost of the pose model's
# precision in these 3 epochs. Measured on the main job's predictions (val AP 0.267 as they came;
# one run each, crops enlarged 1.2 times): 0.249 from the refiner before fine-tuning (the cost of
# cropping around the input pose instead of the ground-truth box), 0.247 after it at lr 2e-4, 0.244
# at 5e-4, 0.220 at 2e-3, 0.218 at 2e-3 for 6 epochs.
# float32, not the pose config's bfloat16 autocast, which was measured on the pose model only
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='Adam', lr=2e-4))
param_scheduler = [
    dict(type='LinearLR', begin=0, end=50, start_factor=0.01, by_epoch=False),
    dict(type='CosineAnnealingLR', begin=0, end=3, T_max=3, eta_min=2e-5, by_epoch=True,
         convert_to_iter_based=True)
]

num_joints = 17
input_size = {{_base_.input_size}}
# The crop is the input pose's extent enlarged 1.1 times, not BBoxFromInputPose's default 1.2,
# measured on the main job's predictions (fine-tuned as above): AP 0.258 at 1.0, 0.261 at 1.1,
# 0.247 at 1.2. A likely reason: its predicted joints stray further than the synthesized errors,
# and a stray joint already widens the crop.
pose_crop = dict(type='BBoxFromInputPose', enlarge=1.1)
codec = {{_base_.codec}}
model = dict(
    type='PoseFixRefiner',
    input_pose_sigma=1.75,  # PoseFix's 7 px at 256x192, scaled to 64x48
    backbone=dict(in_channels=3 + num_joints),
    init_cfg=dict(type='Pretrained', checkpoint='work_dirs/main_job/pose_model/epoch_22.pth'))

dataset_type = 'PoseFixCocoDataset'
train_pipeline = [
    dict(type='LoadImage'),
    dict(type='SynthesizePoseErrors', probabilities={{_base_.pose_error_probabilities}}),
    pose_crop,
    dict(type='GetBBoxCenterScale'),
    dict(type='RandomFlip', direction='horizontal'),
    dict(type='RandomBBoxTransform', rotate_factor=10., scale_factor=(0.8, 1.2)),
    dict(type='TopdownAffine', input_size=input_size),
    dict(type='WarpInputPose'),
    dict(type='GenerateTarget', multilevel=True, encoder=codec),
    dict(type='PackPoseInputs', meta_keys={{_base_.posefix_meta_keys}})
]
# Validation refines freshly synthesized poses of the validation people.
val_pipeline = [
    dict(type='LoadImage'),
    dict(type='SynthesizePoseErrors', probabilities={{_base_.pose_error_probabilities}}),
    pose_crop,
    dict(type='GetBBoxCenterScale'),
    dict(type='TopdownAffine', input_size=input_size),
    dict(type='WarpInputPose'),
    dict(type='PackPoseInputs', meta_keys={{_base_.posefix_meta_keys}})
]
# Refining a results file (refine_plugin.apis.refine_results, tools/refine.py): the input pose
# comes from the results, not from the ground truth.
refine_pipeline = [
    dict(type='LoadImage'),
    pose_crop,
    dict(type='GetBBoxCenterScale'),
    dict(type='TopdownAffine', input_size=input_size),
    dict(type='WarpInputPose'),
    dict(type='PackPoseInputs', meta_keys={{_base_.posefix_meta_keys}})
]
# batches of 32, as measured above (the pose config trains in batches of 16)
train_dataloader = dict(batch_size=32, dataset=dict(type=dataset_type, pipeline=train_pipeline))
auto_scale_lr = dict(base_batch_size=32)
val_dataloader = dict(dataset=dict(type=dataset_type, pipeline=val_pipeline))
test_dataloader = val_dataloader

# PoseFix with a ResNet-50 backbone at 384x288: the 256x192 recipe with the input pose rendered at
# sigma 9 (PoseFix) and 96x72 soft-argmax heatmaps.
_base_ = ['./posefix_res50_8xb16-140e_coco-256x192.py']

input_size = (288, 384)
# unbiased: MMPose's default Gaussian generator centres a sigma-1.5 kernel a pixel up-left of the
# keypoint (it needs 3 * sigma to be an integer); the sub-pixel one is exact for any sigma
codec = dict(type='IntegralRegressionLabel', input_size=input_size, heatmap_size=(72, 96),
             sigma=1.5, unbiased=True, normalize=True)
model = dict(input_pose_sigma=9.0,
             head=dict(in_featuremap_size=(9, 12), decoder=codec))

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
val_pipeline = [
    dict(type='LoadImage'),
    dict(type='SynthesizePoseErrors', probabilities={{_base_.pose_error_probabilities}}),
    dict(type='BBoxFromInputPose'),
    dict(type='GetBBoxCenterScale'),
    dict(type='TopdownAffine', input_size=input_size),
    dict(type='WarpInputPose'),
    dict(type='PackPoseInputs', meta_keys={{_base_.posefix_meta_keys}})
]
refine_pipeline = [
    dict(type='LoadImage'),
    dict(type='BBoxFromInputPose'),
    dict(type='GetBBoxCenterScale'),
    dict(type='TopdownAffine', input_size=input_size),
    dict(type='WarpInputPose'),
    dict(type='PackPoseInputs', meta_keys={{_base_.posefix_meta_keys}})
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=val_pipeline))
test_dataloader = val_dataloader

# The 64x48 CPU ensemble member at twice the input size (heatmaps 32x24): the mixed-size member of
# td-hm_ensemble-3xres18-c16_synthetic-128x96.py.
_base_ = ['./td-hm_res18-c16_1xb32-2e_synthetic-64x48.py']

input_size = (96, 128)
codec = dict(type='MSRAHeatmap', input_size=input_size, heatmap_size=(24, 32), sigma=2)
model = dict(head=dict(decoder=codec))
train_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='RandomFlip', direction='horizontal'),
    dict(type='RandomHalfBody'),
    dict(type='RandomBBoxTransform'),
    dict(type='TopdownAffine', input_size=input_size),
    dict(type='GenerateTarget', encoder=codec),
    dict(type='PackPoseInputs')
]
val_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='TopdownAffine', input_size=input_size),
    dict(type='PackPoseInputs')
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=val_pipeline))
test_dataloader = val_dataloader

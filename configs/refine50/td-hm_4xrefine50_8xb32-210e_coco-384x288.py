# 4xRefine-50, 384x288 (paper Table 2): td-hm_4xrefine50_8xb32-210e_coco-256x192.py at the larger
# input; heatmaps are 96x72, with the same coarse-to-fine kernels 15, 11, 9, 7, 5.
_base_ = ['./td-hm_4xrefine50_8xb32-210e_coco-256x192.py']

kernel_sizes = [15, 11, 9, 7, 5]
codec = [
    dict(
        type='MegviiHeatmap', input_size=(288, 384), heatmap_size=(72, 96),
        kernel_size=kernel_size)
    for kernel_size in kernel_sizes
]

model = dict(head=dict(out_shape=(96, 72), decoder=codec[-1]))

# the pipelines name the input size and the codecs, so they are restated at this size
train_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='RandomFlip', direction='horizontal'),
    dict(type='RandomHalfBody'),
    dict(type='RandomBBoxTransform'),
    dict(type='TopdownAffine', input_size=codec[0]['input_size']),
    dict(type='GenerateTarget', multilevel=True, encoder=codec),
    dict(type='PackPoseInputs')
]
val_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='TopdownAffine', input_size=codec[0]['input_size']),
    dict(type='PackPoseInputs')
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=val_pipeline))
test_dataloader = val_dataloader

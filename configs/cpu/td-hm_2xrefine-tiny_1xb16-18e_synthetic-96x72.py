# The main job's pose model: td-hm_2xrefine-tiny_1xb16-22e_synthetic-64x48.py on 96x72 crops (24x18
# heatmaps) for 18 epochs instead of 22, everything else alike (the Gaussians' sigmas are in heatmap
# pixels, so a joint's target is as sharp in input pixels and sharper on the person).
# Why: the model's error is sub-pixel, and a heatmap pixel is 1.5x finer on the person here, while
# the tiny network's train step is bound by its many small ops more than by pixels (0.14 s per batch
# of 16 against 0.115 s at 64x48, 2 threads of an AMD EPYC), so 18 epochs take the time 22 took at
# 80x60. Measured (val AP, training seed 0, one run each, `tools/main_job.py --skip-posefix`): 0.522
# after these 18 epochs (0.401 / 0.495 at epochs 6 / 12; 705 s of training), against 0.495 at 80x60
# for 22 epochs (730-748 s), 0.513 at 112x84 for 14 epochs (697 s) and 0.417 at 64x48 for 22.
# The base's 2 stages, softmax beta 10, unit loss weights and Adam at lr 2e-2 hold at this size too,
# measured the same way in about the same training time: 1 stage for 30 epochs 0.496, 3 stages for
# 12 epochs 0.460, beta 5 / 20 0.479 / 0.504, every unit's loss weighted 1 0.478, lr 4e-2 0.406,
# AdamW with weight decay 1e-2 0.511. The base's width, 24 / 48 channels, too: 32 / 64 scored 0.535,
# inside the seeds' spread, in 874 s of training, which would take the job past its 15 minutes
# (docs/main_job_experiments.md).
_base_ = ['./td-hm_2xrefine-tiny_1xb16-22e_synthetic-64x48.py']

train_cfg = dict(max_epochs=18, val_interval=6)
# The attention gates learn at a thousandth of the step (2e-5). Adam's steps keep their size while
# a sigmoid's gradient vanishes, so at 2e-2 the gates ran into saturation and stayed there: in
# three of six 18-epoch runs at that step (tools/analysis/gate_saturation.py on val crops) 98-100%
# of each spatial gate's values lay below 0.05 or above 0.95, and squeeze-excitation shut 18-42%
# of the residual channels of the second and third encoder levels' blocks on every crop. At a
# thousandth (seed 0) 0-4% of each spatial gate's values lie there and 0-31% of
# squeeze-excitation's, it shuts at most 1% of a block's channels, and the spatial gates still move
# off their start (means 0.47-0.71). Measured (val AP, training seeds 0 / 1, an AMX Xeon, one run
# each): 0.563 / 0.566 at a thousandth, 0.556 / 0.553 at a hundredth, 0.542 / 0.545 at a tenth,
# against 0.473 / 0.502 there at the full step (six runs on two hosts 0.473-0.522, mean 0.500),
# 0.553 (seed 0) with the gates frozen at their init (lr_mult 0), and the ResNet-block twin's
# 0.546-0.553 (docs/main_job_experiments.md, "The gates' step").
# The constructor keeps the gates and the rest of the network in two Adam param groups where
# MMEngine's builds one per parameter: the same updates in a shorter step (8.0 against 12.5 ms).
gate_lr_mult = 1e-3
optim_wrapper = dict(
    constructor='MergedGroupsOptimWrapperConstructor',
    paramwise_cfg=dict(custom_keys={
        'spatial_attention': dict(lr_mult=gate_lr_mult),
        'channel_attention': dict(lr_mult=gate_lr_mult)}))
param_scheduler = [
    dict(type='LinearLR', begin=0, end=100, start_factor=0.01, by_epoch=False),
    dict(type='CosineAnnealingLR', begin=0, end=18, T_max=18, eta_min=2e-5, by_epoch=True,
         convert_to_iter_based=True)
]

input_size = (72, 96)
codec = [dict(type='SoftmaxHeatmap', input_size=input_size, heatmap_size=(18, 24), sigma=sigma,
              beta={{_base_.softmax_beta}})
         for sigma in (1.5, 1.25, 1.0, 0.45)]
model = dict(head=dict(out_shape=(24, 18), decoder=codec[-1]))

# Each image is decoded once (CachedLoadImage; the generated splits take 400 MiB decoded) rather
# than once per person and epoch: the same crops, 0.4 ms less per sample on 2 cores.
train_pipeline = [
    dict(type='CachedLoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='RandomFlip', direction='horizontal'),
    dict(type='RandomBBoxTransform', rotate_factor=10., scale_factor=(0.8, 1.2)),
    dict(type='TopdownAffine', input_size=input_size),
    dict(type='GenerateTarget', multilevel=True, encoder=codec),
    dict(type='PackPoseInputs')
]
val_pipeline = [
    dict(type='CachedLoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='TopdownAffine', input_size=input_size),
    dict(type='PackPoseInputs')
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=val_pipeline))
test_dataloader = val_dataloader

# The main job's pose model until 2026-12-04 (it now trains td-hm_2xrefine-tiny_1xb16-18e_synthetic-96x72.py,
# which inherits this config): td-hm_2xrefine-tiny_1xb32-16e_synthetic-128x96.py at half the input
# size and 1.5x the width, on twice the generated images (tools/main_job.py generates 1600).
# Why 64x48: on 2 cores the job's minutes buy iterations, and a 64x48 crop trains 2.7x faster
# (model step 0.13 against 0.34 s per batch of 32, both at the base's width); a heatmap pixel is
# then 4 input pixels, about 8% of a person's height, which sub-pixel decoding refines well below
# OKS's tolerance. Measured (one run each, raw softmax scores): val AP 0.058 after 5 minutes of
# training at 64x48 (4 epochs of 2400 images) against 0.013 after 6 minutes at 128x96 (8 epochs of
# 800 images).
_base_ = ['./td-hm_2xrefine-tiny_1xb32-16e_synthetic-128x96.py']

# 22 epochs under bfloat16 autocast (AutocastOptimWrapper; on CPUs with native bfloat16, AMX or
# AVX512-BF16, and in float32 elsewhere) take about the time 18 float32 epochs took: a train step
# runs up to 1.3x faster. Measured (val AP, training seeds 0 / 1 / 2 / 3, finest sigma 0.6): 0.365 /
# 0.368 / 0.369 / 0.360 against 0.324 / 0.362 / 0.345 / 0.355 for the 18 float32 epochs.
train_cfg = dict(max_epochs=22, val_interval=7)
# The model underfits (train AP 0.247 against val 0.233 at lr 2e-3), so a larger step pays. Measured
# (one 18-epoch run each, val AP, with the blocks' earlier 7x7 spatial gate): 0.233 at lr 2e-3, 0.264
# at 5e-3, 0.276 at 1e-2, 0.283 at 2e-2.
optim_wrapper = dict(type='AutocastOptimWrapper', optimizer=dict(type='Adam', lr=2e-2))
param_scheduler = [
    dict(type='LinearLR', begin=0, end=100, start_factor=0.01, by_epoch=False),
    dict(type='CosineAnnealingLR', begin=0, end=22, T_max=22, eta_min=2e-5, by_epoch=True,
         convert_to_iter_based=True)
]

input_size = (48, 64)
# The base's coarse-to-fine Gaussians, narrowed for maps half as wide, the finest (the last unit's
# target) to sigma 0.45: the model's error is sub-pixel imprecision, and a sharper target asks for a
# sharper peak. Measured (val AP, training seeds 0 / 1 / 2 / 3): 0.378 / 0.374 / 0.376 / 0.361
# against 0.365 / 0.368 / 0.369 / 0.360 at sigma 0.6 (every seed gains, the mean by 0.007), which
# had scored 0.361 / 0.366 against 0.344 / 0.346 at 0.8 (seeds 0 / 1, 18 float32 epochs). These AP
# numbers, and the others of this file, were decoded with DARK (3x3 blur); SoftmaxHeatmap's default
# quadratic refinement decodes the same four sigma-0.45 models to 0.411 / 0.405 / 0.407 / 0.393
# (re-decoding their val heatmaps; the sigma-0.35 model 0.400).
codec = [dict(type='SoftmaxHeatmap', input_size=input_size, heatmap_size=(12, 16), sigma=sigma,
              beta={{_base_.softmax_beta}})
         for sigma in (1.5, 1.25, 1.0, 0.45)]
# 1.5x the base's width (24 base channels, 48-channel decoder units): the model underfits, and the
# wider encoder paid for its longer training (519-557 s against 371-405 s for the 18 epochs on 2
# cores). Measured (val AP after the 18 epochs, training seeds 0 / 1, gates starting half open):
# 0.316 / 0.329 against 0.297 / 0.292 at the base's 16 / 32; widening the decoder units alone
# (16 / 64, the same training time) gave 0.301 (seed 0).
unit_channels = 48
model = dict(backbone=dict(base_channels=24, unit_channels=unit_channels),
             head=dict(out_shape=(16, 12), unit_channels=unit_channels, decoder=codec[-1]))

train_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='RandomFlip', direction='horizontal'),
    dict(type='RandomBBoxTransform', rotate_factor=10., scale_factor=(0.8, 1.2)),
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
# Samples are loaded in the training process: a loader process hands each sample's tensors over
# through shared memory, which cost more than making them (0.22 s per batch from one worker
# against 0.075 s in-process; a training iteration 0.36 s against 0.24 s on 2 cores).
# Batches of 16, not the base's 32: twice the steps for the underfitting model. They cost about a
# fifth more time per sample on 2 cores (model step 5.4 against 4.2 ms), and pay more than spending
# that time on epochs. Measured (val AP, exact flip shift, 5x5 DARK blur, training seeds 0 / 1):
# 0.341 / 0.344 at batch 16 (573 / 711 s of training) against 0.332 / 0.337 at 32 (519-557 s), and
# 0.334 at 32 for 22 epochs (601 s, seed 0).
train_dataloader = dict(batch_size=16, num_workers=0, persistent_workers=False,
                        dataset=dict(pipeline=train_pipeline))
auto_scale_lr = dict(base_batch_size=16)
val_dataloader = dict(num_workers=0, persistent_workers=False,
                      dataset=dict(pipeline=val_pipeline))
test_dataloader = val_dataloader
# Each person's score is the mean of all 17 keypoint scores, not of those above MMPose's 0.2: a
# hidden joint's low score still says how sure the model is of the person. It ranks people better:
# val AP of the four sigma-0.45 models (training seeds 0 / 1 / 2 / 3, the same predictions
# re-scored) 0.417 / 0.409 / 0.413 / 0.399 against 0.411 / 0.405 / 0.407 / 0.393 at 0.2; at 0.4,
# 0.392 (seed 0).
val_evaluator = dict(keypoint_score_thr=0.)
test_evaluator = val_evaluator

# Paper Table 3, "+ AIC": the 4xRefine-50 384x288 recipe of the base config trained on COCO
# train2017 together with AI Challenger train, whose persons enter as COCO persons (its 12 limb
# joints at their COCO indices, the face unlabelled: AicCocoDataset). Validation stays COCO-only.
_base_ = ['./td-hm_4xrefine50_8xb32-210e_coco-384x288.py']
custom_imports = dict(imports=['refine_plugin'], allow_failed_imports=False)

# The COCO:AIC sampling mix (MMPose CombinedDataset's `sample_ratio_factor`): an epoch draws
# round(factor * len(set)) samples from each set, so a factor below 1 subsamples that set and
# one above 1 repeats it. (1, 1) uses every COCO and every AIC person once per epoch (AIC has
# about 2.5x COCO's persons); (1, 0.4) makes the mix about 1:1. From the command line:
#   --cfg-options train_dataloader.dataset.sample_ratio_factor="[1,0.4]"
coco_aic_sample_ratio = [1.0, 1.0]

# The sub-datasets only read samples: the base's train pipeline runs once, on the combined set.
coco_train = dict(_base_.train_dataloader.dataset, pipeline=[])
aic_train = dict(
    type='AicCocoDataset',
    data_root='data/aic/',
    data_mode='topdown',
    # The original AIC release; MMPose's COCO-style annotations/aic_train.json works as well
    # (the format is detected from the content).
    ann_file='ai_challenger_keypoint_train_20170902/keypoint_train_annotations_20170909.json',
    data_prefix=dict(img='ai_challenger_keypoint_train_20170902/keypoint_train_images_20170902/'),
    pipeline=[])

train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='CombinedDataset',
        metainfo=dict(from_file='configs/_base_/datasets/coco.py'),
        datasets=[coco_train, aic_train],
        sample_ratio_factor=coco_aic_sample_ratio,
        pipeline=_base_.train_dataloader.dataset.pipeline))

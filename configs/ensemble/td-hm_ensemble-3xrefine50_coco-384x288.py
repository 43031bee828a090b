# Paper Table 4: an ensemble of three 4xRefine-50 models (COCO 256x192, COCO 384x288 and
# COCO+AIC 384x288) averaging their flip-tested heatmaps at 384x288 (heatmaps 96x72), evaluated on
# val2017 with the person detections of MMPose's COCO configs. Tools:
#   GT boxes:   tools/test.py CONFIG CKPT --cfg-options test_dataloader.dataset.bbox_file=None
#   + PoseFix:  tools/pipeline.py CONFIG --refiner-config ... (see README)
#   test-dev:   td-hm_ensemble-3xrefine50_coco-test-dev-384x288.py
# The members load their own checkpoints (paths below, or --cfg-options
# model.members.0.checkpoint=...); tools/test.py's checkpoint argument is then an ensemble
# checkpoint saved from this config, see README.
_base_ = ['../refine50/td-hm_4xrefine50_8xb32-210e_coco-384x288.py']

members = [
    dict(config='configs/refine50/td-hm_4xrefine50_8xb32-210e_coco-256x192.py',
         checkpoint='checkpoints/td-hm_4xrefine50_8xb32-210e_coco-256x192.pth'),
    dict(config='configs/refine50/td-hm_4xrefine50_8xb32-210e_coco-384x288.py',
         checkpoint='checkpoints/td-hm_4xrefine50_8xb32-210e_coco-384x288.pth'),
    dict(config='configs/refine50/td-hm_4xrefine50_8xb32-210e_coco-aic-384x288.py',
         checkpoint='checkpoints/td-hm_4xrefine50_8xb32-210e_coco-aic-384x288.pth'),
]
model = dict(
    _delete_=True,
    type='EnsemblePoseEstimator',
    members=members,
    # the members' finest codec, at the largest member's size
    codec=dict(type='MegviiHeatmap', input_size=(288, 384), heatmap_size=(72, 96),
               kernel_size=5),
    data_preprocessor=dict(type='PoseDataPreprocessor', mean=[123.675, 116.28, 103.53],
                           std=[58.395, 57.12, 57.375], bgr_to_rgb=True))

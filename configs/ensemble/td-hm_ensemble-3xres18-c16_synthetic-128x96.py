# The CPU ensemble check: two 64x48 members (seeds 0 and 1) and one 128x96 member (seed 2) of the
# small ResNet-18, averaged at 128x96 (heatmaps 32x24) on the generated validation set, GT boxes.
# Train the members first (README, "Ensemble"), then
#   python tools/pipeline.py configs/ensemble/td-hm_ensemble-3xres18-c16_synthetic-128x96.py \
#       --ann-file data/synthetic/annotations/person_keypoints_val.json \
#       --img-dir data/synthetic/val --out-dir work_dirs/ensemble_cpu
_base_ = ['./td-hm_res18-c16_1xb32-2e_synthetic-128x96.py']

work_dirs = 'work_dirs/td-hm_res18-c16_1xb32-2e_synthetic'
model = dict(
    _delete_=True,
    type='EnsemblePoseEstimator',
    members=[
        dict(config='configs/ensemble/td-hm_res18-c16_1xb32-2e_synthetic-64x48.py',
             checkpoint=f'{work_dirs}-64x48_seed0/epoch_2.pth'),
        dict(config='configs/ensemble/td-hm_res18-c16_1xb32-2e_synthetic-64x48.py',
             checkpoint=f'{work_dirs}-64x48_seed1/epoch_2.pth'),
        dict(config='configs/ensemble/td-hm_res18-c16_1xb32-2e_synthetic-128x96.py',
             checkpoint=f'{work_dirs}-128x96_seed2/epoch_2.pth'),
    ],
    codec=dict(type='MSRAHeatmap', input_size=(96, 128), heatmap_size=(24, 32), sigma=2),
    data_preprocessor=dict(type='PoseDataPreprocessor', mean=[123.675, 116.28, 103.53],
                           std=[58.395, 57.12, 57.375], bgr_to_rgb=True))

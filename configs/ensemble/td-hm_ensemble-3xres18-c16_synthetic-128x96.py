# The CPU ensemble check: three seeds of the small ResNet-18 member, their flip-tested heatmaps
# averaged, on the generated validation set with ground-truth boxes. Train the members first
# (README, "Ensemble"), then
#   python tools/pipeline.py configs/ensemble/td-hm_ensemble-3xres18-c16_synthetic-128x96.py \
#       --ann-file data/synthetic/annotations/person_keypoints_val.json \
#       --img-dir data/synthetic/val --out-dir work_dirs/ensemble_cpu
_base_ = ['./td-hm_res18-c16_1xb32-2e_synthetic-128x96.py']

member = 'td-hm_res18-c16_1xb32-2e_synthetic-128x96'
model = dict(
    _delete_=True,
    type='EnsemblePoseEstimator',
    members=[
        dict(config=f'configs/ensemble/{member}.py',
             checkpoint=f'work_dirs/{member}_seed{seed}/epoch_2.pth') for seed in (0, 1, 2)
    ],
    codec=dict(type='MSRAHeatmap', input_size=(96, 128), heatmap_size=(24, 32), sigma=2),
    data_preprocessor=dict(type='PoseDataPreprocessor', mean=[123.675, 116.28, 103.53],
                           std=[58.395, 57.12, 57.375], bgr_to_rgb=True))

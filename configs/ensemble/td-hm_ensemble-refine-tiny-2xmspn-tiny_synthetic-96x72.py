# Three CPU models on the generated validation set with ground-truth boxes: the main job's model
# (Refine blocks) and two ResNet-block twins trained with different seeds, their flip-tested
# heatmaps averaged. Train the members first (README, "Ensemble ... on the generated data"), then
#   python tools/pipeline.py configs/ensemble/td-hm_ensemble-refine-tiny-2xmspn-tiny_synthetic-96x72.py \
#       --ann-file data/synthetic/annotations/person_keypoints_val.json \
#       --img-dir data/synthetic/val --out-dir work_dirs/ensemble_cpu_3
_base_ = ['./td-hm_ensemble-2xmspn-tiny_synthetic-96x72.py']

model = dict(members=[
    dict(config='configs/cpu/td-hm_2xrefine-tiny_1xb16-18e_synthetic-96x72.py',
         checkpoint='work_dirs/main_job/pose_model/epoch_18.pth'),
    *_base_.model.members,
])

# The CPU ensemble check: the main job's model (Refine blocks) and its ResNet-block twin, their
# flip-tested heatmaps averaged, on the generated validation set with ground-truth boxes. Train the
# members first (README, "The main job"), then
#   python tools/pipeline.py configs/ensemble/td-hm_ensemble-refine-tiny-mspn-tiny_synthetic-96x72.py \
#       --ann-file data/synthetic/annotations/person_keypoints_val.json \
#       --img-dir data/synthetic/val --out-dir work_dirs/ensemble_cpu
_base_ = ['../cpu/td-hm_2xrefine-tiny_1xb16-18e_synthetic-96x72.py']

model = dict(
    _delete_=True,
    type='EnsemblePoseEstimator',
    members=[
        dict(config='configs/cpu/td-hm_2xrefine-tiny_1xb16-18e_synthetic-96x72.py',
             checkpoint='work_dirs/main_job/pose_model/epoch_18.pth'),
        dict(config='configs/cpu/td-hm_2xmspn-tiny_1xb16-18e_synthetic-96x72.py',
             checkpoint='work_dirs/main_job_resnet/pose_model/epoch_18.pth'),
    ],
    # the members' logits are averaged, then decoded through their softmax
    codec=_base_.codec[-1],
    data_preprocessor=_base_.model.data_preprocessor)

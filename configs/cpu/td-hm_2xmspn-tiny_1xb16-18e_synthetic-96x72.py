# The ResNet-block twin of td-hm_2xrefine-tiny_1xb16-18e_synthetic-96x72.py (the main job's model):
# the same network, data and schedule with plain Bottleneck encoder blocks, for the
# Refine-vs-ResNet comparison.
_base_ = ['./td-hm_2xrefine-tiny_1xb16-18e_synthetic-96x72.py']

model = dict(backbone=dict(block='Bottleneck'))

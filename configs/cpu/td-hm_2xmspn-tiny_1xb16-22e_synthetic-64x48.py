# The ResNet-block twin of td-hm_2xrefine-tiny_1xb16-22e_synthetic-64x48.py (the main job's model until 2026-12-04):
# the same network, data and schedule with plain Bottleneck encoder blocks, for the
# Refine-vs-ResNet comparison.
_base_ = ['./td-hm_2xrefine-tiny_1xb16-22e_synthetic-64x48.py']

model = dict(backbone=dict(block='Bottleneck'))

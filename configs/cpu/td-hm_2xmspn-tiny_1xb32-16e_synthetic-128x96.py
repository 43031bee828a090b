# The ResNet-block twin of td-hm_2xrefine-tiny_1xb32-16e_synthetic-128x96.py: the same network,
# data and schedule with plain Bottleneck encoder blocks (a narrow 2-stage MSPN), for the
# Refine-vs-ResNet comparison.
_base_ = ['./td-hm_2xrefine-tiny_1xb32-16e_synthetic-128x96.py']

model = dict(backbone=dict(block='Bottleneck'))

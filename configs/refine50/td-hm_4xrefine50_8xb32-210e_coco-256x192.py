# 4xRefine-50, 256x192 (paper Table 1, Refine-50 row): the MSPN baseline
# (configs/mspn/td-hm_4xmspn50_8xb32-210e_coco-256x192.py) with RefineBottleneck encoder levels;
# schedule, data and supervision are the baseline's.
_base_ = ['../mspn/td-hm_4xmspn50_8xb32-210e_coco-256x192.py']

model = dict(
    backbone=dict(
        block='RefineBottleneck',
        scales=4,
        base_width=26,
        spatial_attention=True,
        channel_attention=True,
        # timm's ImageNet Res2Net-50 (26w-4s), converted on load; attention layers start at init
        init_cfg=dict(
            type='Pretrained',
            checkpoint='https://github.com/rwightman/pytorch-image-models/releases/download/'
            'v0.1-res2net/res2net50_26w_4s-06e79181.pth')))

# PoseFix with the Refine-50 backbone at 384x288: the ResNet-50 recipe of the same size with
# RefineResNet (ImageNet Res2Net-50 26w-4s weights in the image channels of the stem).
_base_ = ['./posefix_res50_8xb16-140e_coco-384x288.py']

model = dict(backbone=dict(
    _delete_=True,
    type='RefineResNet',
    depth=50,
    in_channels=3 + 17,
    init_cfg=dict(
        type='Pretrained',
        checkpoint='https://github.com/rwightman/pytorch-image-models/releases/download/'
        'v0.1-res2net/res2net50_26w_4s-06e79181.pth')))

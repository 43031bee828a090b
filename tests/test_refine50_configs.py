"""The Table 1/2 configs: each builds and runs one train and one val iteration on CPU.

The configs' blocks, input sizes, multi-level targets, losses, schedule and flip test are kept;
only the data (a few generated images), the backbone depth/width (the full networks are covered in
test_multi_stage_refine_net.py) and the ImageNet download are overridden.
"""
import json
import math
import os
from pathlib import Path

import pytest
import torch
from conftest import pycocotools_stats
from mmengine.config import Config
from mmengine.runner import Runner

REPO_ROOT = Path(__file__).resolve().parents[1]
CONFIGS = [
    'configs/mspn/td-hm_4xmspn50_8xb32-210e_coco-256x192.py',
    'configs/refine50/td-hm_4xrefine50_8xb32-210e_coco-256x192.py',
    'configs/refine50/td-hm_4xrefine50_8xb32-210e_coco-384x288.py',
]


def shrink_for_cpu(cfg, tiny_coco, work_dir):
    cfg.work_dir = str(work_dir)
    cfg.model.backbone.update(num_blocks=[1, 1, 1, 1], base_channels=16, unit_channels=32,
                              init_cfg=None)
    cfg.model.head.unit_channels = 32
    # one epoch of one batch; validation is run once, explicitly, after it
    cfg.train_cfg.update(max_epochs=1, val_interval=2)
    cfg.default_hooks.logger.interval = 1
    for split, loader in (('train', cfg.train_dataloader), ('val', cfg.val_dataloader)):
        loader.update(batch_size=2, num_workers=0, persistent_workers=False)
        loader.dataset.update(data_root=tiny_coco['root'], indices=2,
                              ann_file=f'annotations/person_keypoints_{split}.json',
                              data_prefix=dict(img=f'{split}/'))
    # GT boxes: the COCO detection file is not part of the test data
    cfg.val_dataloader.dataset.bbox_file = None
    cfg.test_dataloader = cfg.val_dataloader
    cfg.val_evaluator.update(ann_file=tiny_coco['val_ann'],
                             outfile_prefix=str(Path(work_dir, 'val')))
    cfg.test_evaluator = cfg.val_evaluator
    return cfg


@pytest.mark.parametrize('config', CONFIGS)
def test_config_trains_and_validates_one_iteration(config, tiny_coco, tmp_path):
    cfg = Config.fromfile(str(REPO_ROOT / config))
    assert cfg.model.backbone.type == 'MultiStageRefineNet'
    assert cfg.val_dataloader.dataset.bbox_file.endswith(
        'COCO_val2017_detections_AP_H_56_person.json')
    assert cfg.model.test_cfg.flip_test
    runner = Runner.from_cfg(shrink_for_cpu(cfg, tiny_coco, tmp_path))
    first_conv = runner.model.backbone.top.top[0].conv.weight.detach().clone()

    runner.train()
    assert runner.iter == 1
    loss = runner.message_hub.get_scalar('train/loss').current()
    assert math.isfinite(loss) and loss > 0
    assert not torch.equal(runner.model.backbone.top.top[0].conv.weight, first_conv)

    metrics = runner.val()
    predictions = json.loads((tmp_path / 'val.keypoints.json').read_text())
    dataset = runner.val_dataloader.dataset
    assert len(dataset) == 2
    # one pose for each person of the cut val set
    assert sorted(p['image_id'] for p in predictions) == sorted(
        dataset.get_data_info(i)['img_id'] for i in range(len(dataset)))
    # The config's CocoMetric reports what the reference COCO API scores on its predictions file.
    names = ['AP', 'AP .5', 'AP .75', 'AP (M)', 'AP (L)', 'AR', 'AR .5', 'AR .75', 'AR (M)',
             'AR (L)']
    assert [metrics[f'coco/{name}'] for name in names] == pytest.approx(
        pycocotools_stats(tiny_coco['val_ann'], predictions))
    assert os.path.isfile(tmp_path / 'epoch_1.pth')

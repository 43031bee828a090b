"""The pinned stack installs with its compiled ops and the plugin registers into MMPose."""
import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torchvision

REPO_ROOT = Path(__file__).resolve().parents[1]


def test_mmcv_nms_cpu_matches_torchvision():
    from mmcv.ops import nms
    generator = torch.Generator().manual_seed(0)
    xy = torch.rand(200, 2, generator=generator) * 100
    wh = torch.rand(200, 2, generator=generator) * 40 + 5
    boxes = torch.cat([xy, xy + wh], dim=1)
    scores = torch.rand(200, generator=generator)
    dets, keep = nms(boxes, scores, iou_threshold=0.5)
    expected = torchvision.ops.nms(boxes, scores, 0.5)
    assert keep.tolist() == expected.tolist()
    assert torch.allclose(dets[:, 4], scores[expected])


def test_mmcv_roi_align_cpu_matches_torchvision():
    from mmcv.ops import RoIAlign
    generator = torch.Generator().manual_seed(0)
    feats = torch.rand(2, 4, 32, 32, generator=generator)
    rois = torch.tensor([[0, 1.0, 2.0, 20.0, 25.0], [1, 5.5, 3.0, 30.0, 16.0]])
    ours = RoIAlign((7, 7), spatial_scale=0.5, sampling_ratio=2, aligned=True)(feats, rois)
    ref = torchvision.ops.roi_align(feats, rois, (7, 7), spatial_scale=0.5, sampling_ratio=2,
                                    aligned=True)
    assert torch.allclose(ours, ref, atol=1e-5)


def test_openmmlab_model_packages_import():
    import mmdet.models  # noqa: F401
    import mmpose.models  # noqa: F401


_REGISTERED_BY_PLUGIN = """
import importlib, json, pkgutil, sys
from mmpose import registry

def plugin_entries():
    entries = set()
    for name in dir(registry):
        reg = getattr(registry, name)
        if isinstance(reg, registry.Registry):
            entries.update((reg.name, key) for key, obj in reg.module_dict.items()
                           if obj.__module__.startswith('refine_plugin'))
    return entries

import refine_plugin
after_import = plugin_entries()
for info in pkgutil.walk_packages(refine_plugin.__path__, 'refine_plugin.'):
    importlib.import_module(info.name)
after_walk = plugin_entries()
print(json.dumps([sorted(after_import), sorted(after_walk - after_import)]))
"""


def test_import_registers_every_plugin_module():
    """``import refine_plugin`` alone registers all that any of its modules registers.

    Run in a fresh interpreter: in this one, other tests may have imported submodules already.
    """
    out = subprocess.run([sys.executable, '-c', _REGISTERED_BY_PLUGIN], check=True,
                         capture_output=True, text=True, cwd=REPO_ROOT).stdout
    registered, missed = json.loads(out.strip().splitlines()[-1])
    assert registered, 'the plugin registers nothing'
    assert missed == [], f'registered only when their module is imported directly: {missed}'


@pytest.mark.parametrize('config', sorted(
    str(p.relative_to(REPO_ROOT)) for p in (REPO_ROOT / 'configs').rglob('*.py')
    if '_base_' not in p.parts))
def test_config_turns_the_plugin_on(config):
    from mmengine.config import Config
    cfg = Config.fromfile(str(REPO_ROOT / config))
    assert 'refine_plugin' in cfg.custom_imports['imports']
    assert cfg.custom_imports.get('allow_failed_imports', False) is False


def test_the_plugin_works_without_its_deploy_extra():
    """onnx, onnxruntime and openvino are the optional 'deploy' extra (setup.py): importing the
    plugin, as every config does, and building and running a model must not need them."""
    script = """
import sys
sys.modules['onnx'] = sys.modules['onnxruntime'] = sys.modules['openvino'] = None  # not installed
import torch
from mmpose.apis import init_model
import refine_plugin
model = init_model('configs/cpu/td-hm_2xrefine-tiny_1xb16-22e_synthetic-64x48.py', None,
                   device='cpu')
heatmaps = model(torch.zeros(1, 3, 64, 48), None, mode='tensor')  # one map per unit and stage
print(tuple(heatmaps[-1].shape))
"""
    run = subprocess.run([sys.executable, '-c', script], capture_output=True, text=True,
                         cwd=REPO_ROOT)
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stdout.strip().splitlines()[-1] == '(1, 17, 16, 12)'

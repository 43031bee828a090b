"""The model zoo: model-index.yml and the metafiles list every config exactly once, in OpenMMLab's
format; a checkpoint URL loads through ``mmpose.apis.init_model`` and the Runner (``load_from``)."""
import functools
import http.server
import threading
from pathlib import Path

import pytest
import torch
import yaml

from tiny_topdown import write_tiny_config

REPO = Path(__file__).resolve().parents[1]


def _metafiles():
    index = yaml.safe_load((REPO / 'model-index.yml').read_text())
    return {path: yaml.safe_load((REPO / path).read_text()) for path in index['Import']}


def test_model_index_imports_every_metafile():
    on_disk = sorted(str(p.relative_to(REPO)) for p in REPO.glob('configs/*/metafile.yml'))
    assert sorted(_metafiles()) == on_disk


def test_every_config_is_listed_once_and_every_entry_is_well_formed():
    from mmengine.config import Config

    listed = []
    for path, meta in _metafiles().items():
        collections = {c['Name'] for c in meta['Collections']}
        for model in meta['Models']:
            where = f'{path}: {model.get("Name")}'
            config = REPO / model['Config']
            assert config.is_file(), f'{where}: no config {config}'
            assert model['Name'] == config.stem, where
            assert model['In Collection'] in collections, where
            assert {'Architecture', 'Training Data'} <= model['Metadata'].keys(), where
            if 'Weights' in model:
                assert model['Weights'].startswith('https://'), where
                assert model['Weights'].endswith('.pth'), where
            for result in model.get('Results', []):
                assert {'Dataset', 'Task', 'Metrics'} <= result.keys(), where
                assert all(isinstance(v, float) for v in result['Metrics'].values()), where
            cfg = Config.fromfile(config)
            assert 'refine_plugin' in cfg.custom_imports['imports'], where
            listed.append(model['Config'])
    configs = sorted(str(p.relative_to(REPO)) for p in REPO.glob('configs/*/*.py'))
    assert sorted(listed) == configs, 'model-index.yml must list every config exactly once'


@pytest.fixture
def checkpoint_server(tmp_path):
    """Serve ``tmp_path/served`` over HTTP on 127.0.0.1 (random port); yields (dir, base URL)."""
    served = tmp_path / 'served'
    served.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield served, f'http://127.0.0.1:{server.server_address[1]}'
    server.shutdown()
    thread.join()


def test_init_model_and_runner_load_a_checkpoint_by_url(tiny_coco, tmp_path, checkpoint_server,
                                                        monkeypatch):
    import refine_plugin  # noqa: F401
    from mmengine.config import Config
    from mmengine.runner import Runner, save_checkpoint
    from mmpose.apis import init_model

    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch_home'))  # the download cache
    config = write_tiny_config(tmp_path / 'tiny.py', tiny_coco, tmp_path / 'work')
    trained = init_model(str(config), None, device='cpu')
    torch.manual_seed(1)
    for param in trained.parameters():  # unlike any fresh initialisation
        torch.nn.init.normal_(param)
    served, url = checkpoint_server
    save_checkpoint(dict(state_dict=trained.state_dict(),
                         meta=dict(dataset_meta=dict(dataset_name='tiny'))),
                    str(served / 'tiny-0123abcd.pth'))

    loaded = init_model(str(config), f'{url}/tiny-0123abcd.pth', device='cpu')
    expected = trained.state_dict()
    assert all(torch.equal(v, expected[k]) for k, v in loaded.state_dict().items())
    assert loaded.dataset_meta['dataset_name'] == 'tiny'
    assert (tmp_path / 'torch_home/hub/checkpoints/tiny-0123abcd.pth').is_file()

    cfg = Config.fromfile(config)
    cfg.load_from = f'{url}/tiny-0123abcd.pth'  # what tools/test.py and tools/train.py set
    runner = Runner.from_cfg(cfg)
    runner.load_or_resume()
    assert all(torch.equal(v, expected[k]) for k, v in runner.model.state_dict().items())

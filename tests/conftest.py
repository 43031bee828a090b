"""Shared fixtures.

``shared_data``: the real COCO/AIC samples of ``../shared/data``, found through the environment
variable ``REFINE_PLUGIN_DATA`` (``tools/run_tests.sh`` sets it when the folder is beside the repo);
tests that need it skip with a reason when it is absent.

``tiny_coco``: a small generated multi-person COCO-format set (the plugin's own synthetic data
generator), made once per test session.
"""
import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope='session')
def shared_data():
    root = os.environ.get('REFINE_PLUGIN_DATA')
    if not root or not Path(root, 'coco', 'test_coco.json').is_file():
        pytest.skip('real sample data not found: set REFINE_PLUGIN_DATA to ../shared/data')
    return Path(root)


@pytest.fixture(scope='session')
def tiny_coco(tmp_path_factory):
    from refine_plugin.datasets.synthetic import generate_dataset
    out_dir = tmp_path_factory.mktemp('tiny_coco')
    return generate_dataset(out_dir, num_train=8, num_val=4, seed=0)

"""Load MMEngine checkpoints under torch >= 2.6.

torch 2.6 made ``torch.load`` default to ``weights_only=True``. MMEngine 0.10's local loader calls
``torch.load(filename, map_location)``, and the checkpoints MMEngine itself saves hold more than
tensors (the message hub's ``HistoryBuffer``\\ s, numpy scalars, the config's meta), so
``load_checkpoint``, ``mmpose.apis.init_model`` and ``Runner(resume=True)`` fail on them.

We re-register MMEngine's loader for local paths (the prefix ``''``) with one that passes
``weights_only=False``, the behaviour those MMEngine versions were written for. HTTP(S) and
``torchvision://`` already go through ``torch.hub.load_state_dict_from_url``, which defaults to
``weights_only=False``. As with any pickle, load only checkpoints you trust.
"""
import inspect
import os.path as osp

import torch
from mmengine.runner.checkpoint import CheckpointLoader

_TORCH_LOAD_HAS_WEIGHTS_ONLY = 'weights_only' in inspect.signature(torch.load).parameters


def load_from_local(filename, map_location=None):
    """MMEngine's local loader, with the full pickle loading its checkpoints need."""
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'{filename} can not be found.')
    if _TORCH_LOAD_HAS_WEIGHTS_ONLY:
        return torch.load(filename, map_location=map_location, weights_only=False)
    return torch.load(filename, map_location=map_location)


CheckpointLoader.register_scheme(prefixes='', loader=load_from_local, force=True)

"""Carry the random generators' states through checkpoints.

MMEngine's resume only re-seeds the generators with the run's seed, so a run resumed mid-training
draws different augmentations (and dropout masks) from the ones the uninterrupted run would have
drawn. This hook stores the states of Python's, NumPy's and torch's (CPU and CUDA) global generators
in every checkpoint; ``ExactResumeEpochBasedTrainLoop`` puts them back at the moment that matches
the save.

Only the main process saves checkpoints, so in distributed runs every rank gets rank 0's states.
"""
import random

import numpy as np
import torch
from mmengine.hooks import Hook
from mmpose.registry import HOOKS


def capture_random_state():
    state = dict(
        python=random.getstate(), numpy=np.random.get_state(), torch=torch.get_rng_state())
    if torch.cuda.is_available():
        state['cuda'] = torch.cuda.get_rng_state_all()
    return state


def restore_random_state(state):
    random.setstate(state['python'])
    np.random.set_state(state['numpy'])
    # Checkpoints are loaded onto the training device; generator states must be CPU byte tensors.
    torch.set_rng_state(state['torch'].cpu())
    if 'cuda' in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([s.cpu() for s in state['cuda']])


@HOOKS.register_module()
class RandomStateHook(Hook):
    """Save the global random states in checkpoints; keep the loaded ones for the train loop."""

    priority = 'VERY_LOW'

    def __init__(self):
        self.loaded_state = None

    def before_save_checkpoint(self, runner, checkpoint):
        checkpoint['random_state'] = capture_random_state()

    def after_load_checkpoint(self, runner, checkpoint):
        self.loaded_state = checkpoint.get('random_state')

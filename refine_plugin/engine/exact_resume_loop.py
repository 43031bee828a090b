"""An epoch-based train loop whose resume from a mid-epoch checkpoint is exact.

MMEngine's ``EpochBasedTrainLoop`` restores the epoch and iteration counters on resume but then
iterates the resumed epoch from its first batch: the batches trained before the checkpoint are
trained again, the epoch gets longer than ``len(dataloader)`` and every later iteration sees
different data than in the uninterrupted run.

This loop instead replays the batches the interrupted run had already consumed in that epoch
(drawing them from the dataloader without training on them, so the sampler's order and the
dataloader workers' random streams advance exactly as before) and then restores the random states
saved with the checkpoint (``RandomStateHook``), so training continues with the very batches,
augmentations and random draws the uninterrupted run used. Replaying costs the data-loading time of
the part of the epoch already done, never any training.

Exactness needs a deterministic run (``randomness=dict(seed=..., deterministic=True)``) and
dataloader workers that restart every epoch (``num_workers=0`` or ``persistent_workers=False``):
persistent workers carry their random streams across epochs, which no checkpoint records.
"""
import logging

from mmengine.logging import print_log
from mmengine.runner import EpochBasedTrainLoop
from mmpose.registry import LOOPS

from .random_state_hook import RandomStateHook, restore_random_state


@LOOPS.register_module()
class ExactResumeEpochBasedTrainLoop(EpochBasedTrainLoop):
    """``EpochBasedTrainLoop`` that resumes mid-epoch at the batch where the checkpoint was taken.

    Takes the same arguments. Registers a ``RandomStateHook`` when the config has none, since the
    random states can reach the checkpoint only through a hook.
    """

    def __init__(self, runner, dataloader, max_epochs, **kwargs):
        super().__init__(runner, dataloader, max_epochs, **kwargs)
        hooks = [hook for hook in runner.hooks if isinstance(hook, RandomStateHook)]
        if not hooks:
            hooks = [RandomStateHook()]
            runner.register_hook(hooks[0])
        self._random_state_hook = hooks[0]
        self._resuming = False

    def run(self):
        # ``load_from`` also triggers ``after_load_checkpoint``; only a resume advances ``_iter``.
        self._resuming = self._iter > 0
        if self._resuming and self.dataloader.num_workers and self.dataloader.persistent_workers:
            print_log('persistent_workers=True: the dataloader workers restart with fresh random '
                      'streams, so this resume is not exact (set persistent_workers=False)',
                      logger='current', level=logging.WARNING)
        return super().run()

    def run_epoch(self):
        self.runner.call_hook('before_train_epoch')
        self.runner.model.train()
        done = self._iter - self._epoch * len(self.dataloader) if self._resuming else 0
        if done < len(self.dataloader):
            batches = iter(self.dataloader)
            if done:
                print_log(f'Replaying the {done} batches of epoch {self._epoch + 1} trained '
                          'before the checkpoint', logger='current')
            for _ in range(done):
                next(batches)
            self._restore_saved_random_state()
            for idx, data_batch in enumerate(batches, start=done):
                self.run_iter(idx, data_batch)
        else:
            self._restore_saved_random_state()
        self.runner.call_hook('after_train_epoch')
        self._epoch += 1

    def _restore_saved_random_state(self):
        if not self._resuming:
            return
        self._resuming = False
        state = self._random_state_hook.loaded_state
        if state is None:
            print_log('The resumed checkpoint holds no random states (it was not saved with '
                      'RandomStateHook): the run continues, but not exactly as it would have',
                      logger='current', level=logging.WARNING)
            return
        restore_random_state(state)

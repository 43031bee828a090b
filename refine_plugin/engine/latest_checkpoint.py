"""Find the checkpoint ``--resume`` continues from, even when ``last_checkpoint`` is damaged or
the work dir has moved.

MMEngine's CheckpointHook writes the ``last_checkpoint`` pointer with a plain ``open(..., 'w')``
after each save; a kill between truncating and writing it leaves it empty, and MMEngine then tries
to load the checkpoint ``''``. The pointer also holds an absolute path, which a copied or moved work
dir no longer has. Checkpoints themselves are published atomically (``AtomicLocalBackend``), so
every ``epoch_N.pth`` / ``iter_N.pth`` in the work dir is complete: we fall back to the latest of
them. Not to ``best_*.pth``: CheckpointHook saves those without the optimizer and scheduler
states, so a run resumed from one would restart Adam's moments and the learning-rate schedule.
"""
import glob
import os.path as osp
import re

_RESUMABLE_NAME = re.compile(r'(epoch|iter)_(\d+)\.pth')


def find_resumable_checkpoint(work_dir):
    """The checkpoint ``last_checkpoint`` names (looked up in ``work_dir`` too, by its file name),
    else the ``epoch_N.pth`` or ``iter_N.pth`` of ``work_dir`` with the largest N, else None."""
    pointer = osp.join(work_dir, 'last_checkpoint')
    if osp.isfile(pointer):
        with open(pointer) as f:
            named = f.read().strip()
        if named:
            for path in (named, osp.join(work_dir, osp.basename(named))):
                if osp.isfile(path):
                    return path
    numbered = {}
    for path in glob.glob(osp.join(work_dir, '*.pth')):
        match = _RESUMABLE_NAME.fullmatch(osp.basename(path))
        if match:
            numbered[path] = int(match.group(2))
    return max(numbered, key=numbered.get) if numbered else None

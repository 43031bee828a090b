"""Find the checkpoint ``--resume`` continues from, even when ``last_checkpoint`` is damaged.

MMEngine's CheckpointHook writes the ``last_checkpoint`` pointer with a plain ``open(..., 'w')``
after each save; a kill between truncating and writing it leaves it empty, and MMEngine then tries
to load the checkpoint ``''``. Checkpoints themselves are published atomically
(``AtomicLocalBackend``), so any ``*.pth`` in the work dir is complete: we fall back to the newest.
"""
import glob
import os.path as osp


def find_resumable_checkpoint(work_dir):
    """The checkpoint ``last_checkpoint`` names if it exists, else the newest ``*.pth`` of
    ``work_dir``, else None."""
    pointer = osp.join(work_dir, 'last_checkpoint')
    if osp.isfile(pointer):
        with open(pointer) as f:
            named = f.read().strip()
        if named and osp.isfile(named):
            return named
    checkpoints = glob.glob(osp.join(work_dir, '*.pth'))
    return max(checkpoints, key=osp.getmtime) if checkpoints else None

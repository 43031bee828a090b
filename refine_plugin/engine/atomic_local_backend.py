"""Write local files atomically, so a killed run never leaves a truncated checkpoint.

MMEngine saves every checkpoint through ``save_checkpoint`` ->
``get_file_backend(path).put(bytes, path)``, and its ``LocalBackend.put`` opens the final path and
writes into it: a SIGKILL, OOM kill or preemption during that write leaves a truncated
``iter_N.pth`` that ``--resume`` later fails on.

We replace the backend registered for local paths (the prefix ``''`` and the name ``'local'``) with
one that writes to a temporary file in the same directory, fsyncs it and renames it over the target
(``os.replace`` is atomic on POSIX and Windows within one file system). Doing it at the storage
layer, rather than in a CheckpointHook or Runner subclass, covers every config that imports the
plugin, whatever hooks or runner it selects, and also ``publish_model``-style saves.
"""
import os
import os.path as osp

from mmengine.fileio import io as fileio
from mmengine.fileio.backends import LocalBackend, register_backend


def _write_atomically(data, filepath, mode, encoding=None):
    directory = osp.dirname(osp.abspath(filepath))
    os.makedirs(directory, exist_ok=True)
    # Same directory, so the rename stays on one file system; hidden and not ending in '.pth', so
    # nothing that lists checkpoints picks up a leftover one; opened normally (not mkstemp) so the
    # checkpoint gets the usual umask permissions.
    tmp_path = osp.join(directory, f'.{osp.basename(filepath)}.{os.getpid()}.tmp')
    try:
        with open(tmp_path, mode, encoding=encoding) as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp_path, filepath)
    except BaseException:
        if osp.exists(tmp_path):
            os.remove(tmp_path)
        raise


class AtomicLocalBackend(LocalBackend):
    """``LocalBackend`` whose ``put``/``put_text`` publish a file only once it is complete."""

    def put(self, obj, filepath):
        _write_atomically(obj, filepath, 'wb')

    def put_text(self, obj, filepath, encoding='utf-8'):
        _write_atomically(obj, filepath, 'w', encoding=encoding)


register_backend('local', AtomicLocalBackend, force=True, prefixes='')
# Backends cached before the plugin was imported would keep writing in place.
for _key, _backend in list(fileio.backend_instances.items()):
    if type(_backend) is LocalBackend:
        del fileio.backend_instances[_key]

"""Let ``--launcher pytorch`` runs work on machines without CUDA (gloo instead of NCCL).

MMEngine's PyTorch launcher assumes GPUs: ``init_dist`` calls ``torch.cuda.set_device`` before
``init_process_group`` (configs ask for NCCL), and the Runner wraps the model in DDP with
``device_ids=[LOCAL_RANK]``; both fail on a CPU-only machine. With CUDA present nothing changes.
"""
import torch
import torch.distributed as dist


def prepare_cpu_distributed(cfg):
    """Start a gloo process group and wrap the model for CPU DDP when a distributed launch has no
    CUDA. The Runner skips its own ``init_dist`` when a process group already exists."""
    if cfg.get('launcher', 'none') == 'none' or torch.cuda.is_available():
        return cfg
    if not dist.is_initialized():
        dist.init_process_group(backend='gloo')
    if cfg.get('model_wrapper_cfg') is None:
        cfg.model_wrapper_cfg = dict(
            type='MMDistributedDataParallel', device_ids=None, broadcast_buffers=False,
            find_unused_parameters=cfg.get('find_unused_parameters', False))
    return cfg

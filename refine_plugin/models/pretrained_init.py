"""Whether an ``init_cfg`` asks MMEngine to load a checkpoint (``dict(type='Pretrained', ...)``)."""


def is_pretrained(init_cfg) -> bool:
    """True for a single ``Pretrained`` init config (a dict, as configs give it)."""
    return isinstance(init_cfg, dict) and init_cfg.get('type') == 'Pretrained'

"""Name the config file and the key when a config asks for a module nobody registered.

MMEngine reports an unknown ``type`` only when the Runner reaches it, possibly after datasets were
loaded or a model built, with the registry's name but neither the config file nor the key. Checking
every ``type`` of the merged config before the Runner starts points at the line to fix.
"""
from importlib import import_module

from mmengine.registry import Registry

from ..datasets.input_checks import InvalidInputError


def _registries(scope):
    module = import_module(f'{scope}.registry')
    return [value for value in vars(module).values() if isinstance(value, Registry)]


def _is_registered(name, registries):
    for registry in registries:
        try:
            if registry.get(name) is not None:
                return True
        except (KeyError, ImportError):
            continue
    return False


# Transforms whose arguments hold ``type``s of another library, not of a registry.
_FOREIGN_TYPES = {'Albumentation': 'transforms'}


def _type_entries(node, path=''):
    if isinstance(node, dict):
        if isinstance(node.get('type'), str):
            yield f'{path}.type' if path else 'type', node['type']
        for key, value in node.items():
            if _FOREIGN_TYPES.get(node.get('type')) == key:
                continue
            yield from _type_entries(value, f'{path}.{key}' if path else str(key))
    elif isinstance(node, (list, tuple)):
        for index, value in enumerate(node):
            yield from _type_entries(value, f'{path}[{index}]')


def check_registered_types(cfg, filename):
    """Raise ``InvalidInputError`` naming ``filename`` and the key of the first string ``type``
    that no registry of the config's default scope (or of their parents) knows.

    Run it after the config's ``custom_imports`` were imported (``Config.fromfile`` does).
    """
    scope = cfg.get('default_scope') or 'mmpose'
    registries = _registries(scope)
    for key, name in _type_entries(cfg.to_dict()):
        if not _is_registered(name, registries):
            raise InvalidInputError(
                f'{filename}: {key} = {name!r} is not a registered module in the {scope!r} '
                'registries; check the spelling, or add the package that registers it to '
                'custom_imports')

"""refine_plugin: importing it registers every module of the plugin in MMPose's registries.

Configs turn it on with
``custom_imports = dict(imports=['refine_plugin'], allow_failed_imports=False)``.
"""
from . import checkpoint_compat  # noqa: F401  (must run before any checkpoint is loaded)
from . import apis, codecs, datasets, deploy, engine, evaluation, models  # noqa: F401
from .version import __version__  # noqa: F401

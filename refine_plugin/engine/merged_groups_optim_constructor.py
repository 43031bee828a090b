"""MergedGroupsOptimWrapperConstructor: MMEngine's paramwise_cfg with one group per setting.

MMEngine's ``DefaultOptimWrapperConstructor`` gives every parameter a group of its own once a config
has a ``paramwise_cfg``, so PyTorch's optimizers step one tensor at a time (a Python loop over 234
groups for the main job's model) and cannot batch their tensor ops. Parameters whose settings are
equal share a group here (two for the main job's model, whose gates have an ``lr_mult``). Each
parameter's update is the same computation: on a CPU training is bitwise the same (tested). A
checkpoint's optimizer state resumes only under the constructor that wrote it, as the group count
differs.
"""
from mmengine.optim import DefaultOptimWrapperConstructor
from mmpose.registry import OPTIM_WRAPPER_CONSTRUCTORS


def merge_param_groups(param_groups):
    """Param groups with equal settings (every key but ``params``) joined, in first-seen order."""
    merged = []
    for group in param_groups:
        settings = {key: value for key, value in group.items() if key != 'params'}
        target = next((m for m in merged if m['settings'] == settings), None)
        if target is None:
            target = dict(settings=settings, params=[])
            merged.append(target)
        target['params'].extend(group['params'])
    return [dict(m['settings'], params=m['params']) for m in merged]


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class MergedGroupsOptimWrapperConstructor(DefaultOptimWrapperConstructor):
    """``DefaultOptimWrapperConstructor`` whose ``paramwise_cfg`` groups are merged by setting.

    Use it as ``optim_wrapper = dict(constructor='MergedGroupsOptimWrapperConstructor', ...)``; the
    arguments are MMEngine's.
    """

    def add_params(self, params, module, prefix='', is_dcn_module=None):
        super().add_params(params, module, prefix, is_dcn_module)
        if not prefix:  # the outermost call: every module's groups are in
            params[:] = merge_param_groups(params)

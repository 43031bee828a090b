"""MergedGroupsOptimWrapperConstructor: MMEngine's paramwise_cfg with one param group per setting,
and training bitwise the same as under MMEngine's one group per parameter."""
import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope
from mmpose.registry import MODELS, PARAM_SCHEDULERS

from conftest import MAIN_JOB_POSE_CONFIG
from refine_plugin.engine.merged_groups_optim_constructor import merge_param_groups


def test_groups_of_equal_settings_are_joined_in_order():
    first, second, third, fourth = (torch.nn.Parameter(torch.zeros(1)) for _ in range(4))
    merged = merge_param_groups([
        dict(params=[first]), dict(params=[second], lr=0.1, lr_mult=0.5),
        dict(params=[third]), dict(params=[fourth], lr=0.1, lr_mult=0.5),
        dict(params=[fourth], lr=0.1, lr_mult=0.25)])
    assert [[id(p) for p in group.pop('params')] for group in merged] == [
        [id(first), id(third)], [id(second), id(fourth)], [id(fourth)]]
    assert merged == [{}, dict(lr=0.1, lr_mult=0.5), dict(lr=0.1, lr_mult=0.25)]


def build(cfg, constructor):
    """The main job's model (seed 0) and an optim wrapper from ``constructor``, with the config's
    learning-rate warm-up."""
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    optim_cfg = dict(cfg.optim_wrapper, constructor=constructor)
    optim_wrapper = build_optim_wrapper(model, optim_cfg)
    warm_up = PARAM_SCHEDULERS.build(dict(cfg.param_scheduler[0], optimizer=optim_wrapper))
    return model, optim_wrapper, warm_up


def test_main_job_trains_the_same_as_under_mmengine_constructor():
    init_default_scope('mmpose')
    cfg = Config.fromfile(MAIN_JOB_POSE_CONFIG)
    assert cfg.optim_wrapper.constructor == 'MergedGroupsOptimWrapperConstructor'
    ours, ours_optim, ours_warm_up = build(cfg, 'MergedGroupsOptimWrapperConstructor')
    mmengine, mmengine_optim, mmengine_warm_up = build(cfg, 'DefaultOptimWrapperConstructor')

    groups = ours_optim.optimizer.param_groups
    num_params = len(list(ours.parameters()))
    assert len(mmengine_optim.optimizer.param_groups) == num_params
    # the gates at the config's lr_mult, the rest at the base step
    base_lr = ours_optim.optimizer.defaults['lr']
    assert sorted(group['initial_lr'] for group in groups) == [base_lr * cfg.gate_lr_mult, base_lr]
    grouped = {id(param) for group in groups for param in group['params']}
    assert grouped == {id(param) for param in ours.parameters()}
    assert sum(len(group['params']) for group in groups) == num_params

    initial = {name: param.detach().clone() for name, param in ours.named_parameters()}
    for step in range(3):
        for model in (ours, mmengine):
            generator = torch.Generator().manual_seed(step)
            for param in model.parameters():
                param.grad = torch.randn(param.shape, generator=generator)
        for optim_wrapper, warm_up in ((ours_optim, ours_warm_up),
                                       (mmengine_optim, mmengine_warm_up)):
            optim_wrapper.step()
            warm_up.step()
    for (name, param), expected in zip(ours.named_parameters(), mmengine.parameters()):
        assert not torch.equal(param, initial[name]), name
        assert torch.equal(param, expected), name

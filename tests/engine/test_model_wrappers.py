"""The model-wrapper switch: DDP by default, FSDP through a config fragment.

The real 2-process DDP run is tests/tools/test_dist_train.py; torch's FSDP needs a
GPU, so here the FSDP switch is checked up to what builds without one, and the
pieces that decide FSDP's behaviour (the wrap policy, the refusals) are run on CPU.
"""
from functools import partial

import pytest
import torch
from mmengine.config import Config
from mmengine.model import MMDistributedDataParallel, MMFullyShardedDataParallel
from mmengine.registry import FUNCTIONS, MODEL_WRAPPERS, STRATEGIES

from tests.conftest import REPO


def test_default_runtime_wraps_in_the_guarded_ddp():
    cfg = Config.fromfile(str(REPO / 'configs' / 'bigfix' / 'bigfix_imagenet256.py'))
    wrapper = MODEL_WRAPPERS.get(cfg.model_wrapper_cfg.type)  # how Runner.wrap_model looks it up
    assert issubclass(wrapper, MMDistributedDataParallel)
    assert cfg.randomness.diff_rank_seed is True
    assert cfg.auto_scale_lr.base_batch_size == 8 * cfg.train_dataloader.batch_size * \
        cfg.optim_wrapper.accumulative_counts


def fsdp_config(tmp_path, config='bigfix_imagenet256.py'):
    path = tmp_path / 'fsdp_cfg.py'
    path.write_text(f"_base_ = ['{REPO}/configs/bigfix/{config}', "
                    f"'{REPO}/configs/_base_/strategies/fsdp.py']\n")
    return Config.fromfile(str(path))


def test_fsdp_fragment_switches_to_flexible_runner(tmp_path):
    cfg = fsdp_config(tmp_path)
    assert cfg.runner_type == 'FlexibleRunner'
    assert STRATEGIES.get(cfg.strategy.type) is not None
    wrapper = MODEL_WRAPPERS.get(cfg.strategy.model_wrapper.type)
    assert issubclass(wrapper, MMFullyShardedDataParallel)
    policy = cfg.strategy.model_wrapper.auto_wrap_policy
    assert callable(FUNCTIONS.get(policy.type))
    assert cfg.model.transformer.size == 'large'  # the rest of the config is untouched


def test_ddp_wrapper_accepts_a_cpu_module_with_mmengine_device_ids(tmp_path):
    import torch.distributed as dist
    from bigfix_mm.engine.model_wrappers import GuardedDistributedDataParallel
    if dist.is_initialized():
        return
    dist.init_process_group('gloo', init_method=f'file://{tmp_path / "pg"}', rank=0,
                            world_size=1)
    try:
        ddp = GuardedDistributedDataParallel(module=torch.nn.Linear(2, 2), device_ids=[0])
        assert ddp.device_ids is None
    finally:
        dist.destroy_process_group()


def fsdp_units(model: torch.nn.Module, policy_cfg: dict) -> list:
    """The modules torch's FSDP auto-wrap turns into units under ``policy_cfg``: the
    policy is resolved as MMFullyShardedDataParallel does it and run through torch's
    own recursive wrap, with a wrapper class that only records (no GPU needed)."""
    from torch.distributed.fsdp.wrap import _recursive_wrap
    kwargs = dict(policy_cfg)
    policy = partial(FUNCTIONS.get(kwargs.pop('type')), **kwargs)
    units = []

    class Unit(torch.nn.Module):
        def __init__(self, module, **_):
            super().__init__()
            units.append(module)
            self.module = module

    _recursive_wrap(model, policy, wrapper_cls=Unit, ignored_modules=set(), ignored_params=set(),
                    only_wrap_children=True)  # the root is FSDP's own unit
    return units


def test_fsdp_units_are_the_transformer_blocks(tmp_path):
    """Each Block is one unit; the tied embedding / head stays in the root unit. (The
    former size-based policy made tok_emb and every large Linear units, no Block.)"""
    from bigfix_mm.models.editors.bigfix.transformer import Block
    from bigfix_mm.registry import MODELS
    cfg = fsdp_config(tmp_path)
    with torch.device('meta'):  # the large model's structure, without its memory
        model = MODELS.build(cfg.model)
    blocks = [m for m in model.modules() if isinstance(m, Block)]
    tok_emb = model.transformer.tok_emb
    units = fsdp_units(model, cfg.strategy.model_wrapper.auto_wrap_policy)
    assert blocks and len(units) == len(blocks)
    assert all(unit is block for unit, block in zip(units, blocks))
    assert not any(tok_emb is m for unit in units for m in unit.modules())


def test_fsdp_refuses_hooks_and_clipping_it_cannot_run(tmp_path):
    from bigfix_mm.engine.config_checks import ConfigError, check_config
    from bigfix_mm.engine.launch import build_runner
    cfg = fsdp_config(tmp_path, 'bigfix_ucf101.py')  # EMAHook + FixingSamplerHook + clip_grad
    with pytest.raises(ConfigError) as err:
        build_runner(cfg)  # tools/train.py: before anything is built
    text = str(err.value)
    assert 'custom_hooks[0] (EMAHook) does not work with FSDPStrategy' in text
    assert 'custom_hooks[1] (FixingSamplerHook) does not work with FSDPStrategy' in text
    assert 'clip_grad' not in text  # the guarded wrapper clips by the full-model norm
    cfg.custom_hooks = []
    check_config(cfg)
    cfg.strategy.model_wrapper.type = 'MMFullyShardedDataParallel'
    with pytest.raises(ConfigError, match=r"clip_grad=.*'MMFullyShardedDataParallel'.*by its "
                       r"own norm.*GuardedFullyShardedDataParallel"):
        check_config(cfg)
    cfg.optim_wrapper.clip_grad = None
    check_config(cfg)


def test_sampler_hook_refuses_an_fsdp_model():
    """For runners built without tools/train.py (no config check)."""
    from types import SimpleNamespace
    from torch.distributed.fsdp import FullyShardedDataParallel
    from bigfix_mm.engine.hooks import FixingSamplerHook
    sharded = object.__new__(FullyShardedDataParallel)  # only its type matters here
    with pytest.raises(RuntimeError, match='FixingSamplerHook does not work with FSDP'):
        FixingSamplerHook().before_run(SimpleNamespace(model=sharded))
    FixingSamplerHook().before_run(SimpleNamespace(model=torch.nn.Linear(1, 1)))


@pytest.mark.parametrize('config', ['bigfix_imagenet256.py', 'bigfix_ucf101.py',
                                    'bigfix_nuscenes.py'])
def test_bf16_configs_build_no_loss_scaler(monkeypatch, config):
    """bf16 needs no loss scaling; a dynamic GradScaler costs a host sync per step and
    skips steps on overflow. AmpOptimWrapper and GradScaler need CUDA to be built
    enabled: CUDA is reported available for the build only."""
    from mmengine.optim import build_optim_wrapper
    cfg = Config.fromfile(str(REPO / 'configs' / 'bigfix' / config))
    assert cfg.optim_wrapper.dtype == 'bfloat16'
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)
    wrapper = build_optim_wrapper(torch.nn.Linear(2, 2), cfg.optim_wrapper)
    assert not wrapper.loss_scaler.is_enabled()

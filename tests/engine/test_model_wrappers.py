"""The model-wrapper switch: DDP by default, FSDP through a config fragment.

The real 2-process DDP run is tests/tools/test_dist_train.py; torch's FSDP needs a
GPU, so here the FSDP switch is checked up to what builds without one.
"""
import torch
from mmengine.config import Config
from mmengine.model import MMDistributedDataParallel, MMFullyShardedDataParallel
from mmengine.registry import FUNCTIONS, MODEL_WRAPPERS, STRATEGIES

from ..conftest import REPO


def test_default_runtime_wraps_in_the_guarded_ddp():
    cfg = Config.fromfile(str(REPO / 'configs' / 'bigfix_imagenet256.py'))
    wrapper = MODEL_WRAPPERS.get(cfg.model_wrapper_cfg.type)  # how Runner.wrap_model looks it up
    assert issubclass(wrapper, MMDistributedDataParallel)
    assert cfg.randomness.diff_rank_seed is True
    assert cfg.auto_scale_lr.base_batch_size == 8 * cfg.train_dataloader.batch_size * \
        cfg.optim_wrapper.accumulative_counts


def test_fsdp_fragment_switches_to_flexible_runner(tmp_path):
    path = tmp_path / 'fsdp_cfg.py'
    path.write_text(f"_base_ = ['{REPO}/configs/bigfix_imagenet256.py', "
                    f"'{REPO}/configs/_base_/strategies/fsdp.py']\n")
    cfg = Config.fromfile(str(path))
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

"""EMA through MMEngine's EMAHook: the EMA weights are what checkpoints, init_model,
tools/test.py and the FixingSamplerHook use; gradient accumulation in the same run."""
import pytest
import torch
from mmengine.hooks import EMAHook
from mmengine.runner import Runner

from bigfix_mm.apis import init_model
from bigfix_mm.engine.checkpoint import load_checkpoint_file
from bigfix_mm.engine.hooks import FixingSamplerHook
from bigfix_mm.engine.hooks.fixing_sampler_hook import sampling_model

from tests.conftest import SMALL_CONFIG, small_cfg


def flat(module: torch.nn.Module) -> torch.Tensor:
    return torch.cat([p.detach().flatten() for p in module.parameters()])


@pytest.fixture(scope='module')
def ema_run(tmp_path_factory):
    work = tmp_path_factory.mktemp('ema')
    cfg = small_cfg(work, max_iters=2)
    cfg.train_cfg.val_interval = 100  # no validation: keep it short
    cfg.optim_wrapper.accumulative_counts = 2
    cfg.custom_hooks.append(dict(type='EMAHook', momentum=0.5, update_buffers=True,
                                 priority=49))
    runner = Runner.from_cfg(cfg)
    runner.train()
    return runner, work


def test_checkpoint_and_init_model_hold_ema_weights(ema_run):
    runner, work = ema_run
    ema = next(h for h in runner.hooks if isinstance(h, EMAHook)).ema_model.module
    raw = runner.model
    assert not torch.equal(flat(ema), flat(raw))
    ckpt = load_checkpoint_file(work / 'iter_2.pth')
    state = ckpt['state_dict']
    assert all(torch.equal(state[k], v) for k, v in ema.state_dict().items())
    config = work / SMALL_CONFIG.name  # the Runner's dump
    assert torch.equal(flat(init_model(str(config), str(work / 'iter_2.pth'))), flat(ema))
    assert torch.equal(flat(init_model(str(config), str(work / 'iter_2.pth'), use_ema=False)),
                       flat(raw))


def test_fixing_sampler_hook_samples_the_ema_model(ema_run):
    runner, _ = ema_run
    hook = next(h for h in runner.hooks if isinstance(h, FixingSamplerHook))
    ema_hook = next(h for h in runner.hooks if isinstance(h, EMAHook))
    assert sampling_model(runner, hook) is ema_hook.ema_model.module
    # inside validation, before EMAHook swaps back, the runner's model holds the EMA weights
    hook._in_val_epoch = True
    try:
        order = list(runner.hooks)
        swapped_first = order.index(ema_hook) > order.index(hook)
        expected = runner.model if swapped_first else ema_hook.ema_model.module
        assert sampling_model(runner, hook) is expected
    finally:
        hook._in_val_epoch = False


def test_accumulation_counts_in_the_global_batch(ema_run):
    runner, _ = ema_run
    assert runner.optim_wrapper._accumulative_counts == 2
    assert runner.message_hub.get_info('global_batch_size') == 1 * 4 * 2

"""RNGStateHook and GlobalBatchHook units (the end-to-end checks live in tests/tools)."""
import random
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.logging import MessageHub, MMLogger
from mmengine.runner.checkpoint import save_checkpoint

from bigfix_mm.engine.checkpoint import load_checkpoint_file
from bigfix_mm.engine.hooks import GlobalBatchHook, RNGStateHook
from bigfix_mm.engine.hooks.rng_state_hook import get_rng_state, set_rng_state


def draws():
    return random.random(), float(np.random.rand()), float(torch.rand(()))


def test_rng_state_round_trips_through_a_weights_only_checkpoint(tmp_path):
    state = get_rng_state()
    expected = draws()
    path = tmp_path / 'iter_1.pth'
    save_checkpoint(dict(state_dict={}, rng_states=[state]), str(path))
    loaded = load_checkpoint_file(path)['rng_states'][0]
    draws()
    set_rng_state(loaded)
    assert draws() == expected


def test_validation_leaves_the_training_streams_alone():
    hook = RNGStateHook()
    seed_all = lambda: (random.seed(0), np.random.seed(0), torch.manual_seed(0))  # noqa: E731
    seed_all()
    hook.before_val(None)
    draws()  # what validation consumes
    hook.after_val(None)
    after = draws()
    seed_all()
    assert after == draws()


def test_states_restored_after_the_fast_forward():
    """On resume MMEngine replays `iter` batches first; the state must be set after that."""
    hook = RNGStateHook()
    saved = get_rng_state()
    expected = draws()
    inner = iter(range(10))
    loop = SimpleNamespace(iter=3, dataloader_iterator=inner)
    hook._pending, hook._pending_iter = saved, 3
    hook.before_train(SimpleNamespace(train_loop=loop))
    for _ in range(3):  # the fast-forward draws random numbers (main-process pipeline)
        next(loop.dataloader_iterator)
        draws()
    batch = next(loop.dataloader_iterator)
    assert batch == 3 and loop.dataloader_iterator is inner  # proxy removed itself
    assert draws() == expected


def fake_runner(world=2, batch=4, accum=2, cfg=None):
    name = 'global_batch_test'
    logger = MMLogger.get_instance(name) if MMLogger.check_instance_created(name) else \
        MMLogger.get_instance(name, log_level='INFO')
    return SimpleNamespace(
        train_dataloader=SimpleNamespace(batch_size=batch, batch_sampler=None),
        optim_wrapper=SimpleNamespace(_accumulative_counts=accum), world_size=world,
        message_hub=MessageHub.get_instance('global_batch_test'),
        logger=logger, cfg=Config(cfg or {}))


def test_global_batch_logged_and_stored():
    runner = fake_runner(cfg=dict(auto_scale_lr=dict(enable=False, base_batch_size=16)))
    GlobalBatchHook().before_train(runner)
    assert runner.message_hub.get_info('global_batch_size') == 16


def test_global_batch_mismatch_names_the_fix():
    runner = fake_runner(world=4, accum=1, cfg=dict(auto_scale_lr=dict(base_batch_size=32)))
    with pytest.raises(ValueError, match='accumulative_counts=2'):
        GlobalBatchHook(strict=True).before_train(runner)
    GlobalBatchHook().before_train(runner)  # default: a warning only

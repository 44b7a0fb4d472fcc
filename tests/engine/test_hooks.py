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
from bigfix_mm.engine.hooks import rng_state_hook
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


class DeviceTensor(torch.Tensor):
    """What ``torch.load(map_location='cuda')`` returns, as far as the restore path
    can tell: unusable by numpy and the generator setters until ``.cpu()``."""

    def numpy(self, *args, **kwargs):
        raise TypeError("can't convert cuda:0 device type tensor to numpy. Use Tensor.cpu()")

    def cpu(self, *args, **kwargs):
        return self.as_subclass(torch.Tensor).clone()


def on_device(value):
    """The checkpoint entry as it comes back with ``map_location`` = a GPU."""
    if isinstance(value, torch.Tensor):
        return value.as_subclass(DeviceTensor)
    if isinstance(value, (list, tuple)):
        return type(value)(on_device(v) for v in value)
    if isinstance(value, dict):
        return {k: on_device(v) for k, v in value.items()}
    return value


def host_only(setter, calls):
    """A generator setter that rejects device tensors, as torch's do."""

    def set_state(new_state, *args):
        if isinstance(new_state, DeviceTensor):
            raise TypeError('RNG state must be a torch.ByteTensor on the CPU')
        calls.append((new_state, *args))
        return setter(new_state) if setter is not None else None

    return set_state


@pytest.mark.parametrize('saved_devices, visible', [(2, 2), (2, 1)])
def test_resume_restores_states_loaded_onto_a_gpu(monkeypatch, saved_devices, visible):
    """rng_states loaded with map_location='cuda' (MMEngine's resume on a GPU) are
    restored from CPU copies; CUDA states of devices that are gone are dropped, with a
    warning. Before the fix this raised on ``keys.numpy()``."""
    cpu_calls, cuda_calls = [], []
    monkeypatch.setattr(torch, 'set_rng_state', host_only(torch.set_rng_state, cpu_calls))
    monkeypatch.setattr(torch.cuda, 'set_rng_state', host_only(None, cuda_calls))
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)
    monkeypatch.setattr(torch.cuda, 'device_count', lambda: visible)
    logged = []
    monkeypatch.setattr(rng_state_hook, 'print_log', lambda msg, **kwargs: logged.append(msg))
    state = get_rng_state()
    cuda_states = [torch.full((16, ), i, dtype=torch.uint8) for i in range(saved_devices)]
    state['cuda'] = cuda_states
    expected = draws()
    checkpoint = dict(meta=dict(iter=3), rng_states=on_device([state]))
    hook = RNGStateHook()
    hook.after_load_checkpoint(SimpleNamespace(_resume=True), checkpoint)
    draws()
    hook.before_train(SimpleNamespace(train_loop=SimpleNamespace(iter=3)))  # no fast-forward
    assert draws() == expected
    assert len(cpu_calls) == 1
    assert [index for _, index in cuda_calls] == list(range(visible))
    assert all(torch.equal(s, cuda_states[i]) for s, i in cuda_calls)
    assert any('restored the first 1' in m for m in logged) == (visible < saved_devices)


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

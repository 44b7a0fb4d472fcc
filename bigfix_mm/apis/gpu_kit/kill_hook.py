"""A hook that kills its own training process with SIGKILL at a set iteration.

The resume check (:mod:`bigfix_mm.apis.gpu_kit.training`) interrupts a real
``tools/train.py`` run at a known point: no cleanup, no final checkpoint, exactly
as ``kill -9`` from outside, but at a known iteration whatever the device's speed.
Loaded with ``custom_imports``; no shipped config uses it.
"""
import os
import signal

from mmengine.hooks import Hook

from bigfix_mm.registry import HOOKS


@HOOKS.register_module()
class SelfKillHook(Hook):
    """Before training iteration ``at_iter`` (0-based), SIGKILL this process.

    Args:
        at_iter: iterations completed when the process dies.
    """

    priority = 'LOWEST'

    def __init__(self, at_iter: int):
        self.at_iter = int(at_iter)

    def before_train_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        if runner.iter == self.at_iter:
            os.kill(os.getpid(), signal.SIGKILL)

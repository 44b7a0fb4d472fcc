"""Iteration timing and ETA for MMEngine's and MMagic's loops alike."""
from typing import Optional

from mmagic.engine.hooks import IterTimerHook as MMagicIterTimerHook
from mmengine.hooks import IterTimerHook as MMEngineIterTimerHook

from bigfix_mm.registry import HOOKS


@HOOKS.register_module()
class LoopTimerHook(MMagicIterTimerHook):
    """MMagic's ``IterTimerHook`` that also times MMEngine's ``ValLoop`` / ``TestLoop``.

    MMagic's hook computes the evaluation ETA from ``loop.total_length``, which only
    its ``MultiValLoop`` / ``MultiTestLoop`` have; under MMEngine's loops it raises
    ``AttributeError`` at the first ETA update (batch ``window_size``). Loops without
    ``total_length`` are timed by MMEngine's hook (ETA from the dataloader's length).
    """

    def _after_iter(self, runner, batch_idx: int, data_batch=None, outputs=None,
                    mode: str = 'train') -> None:
        loop: Optional[object] = {'val': lambda: runner.val_loop,
                                  'test': lambda: runner.test_loop}.get(mode, lambda: None)()
        if loop is not None and not hasattr(loop, 'total_length'):
            MMEngineIterTimerHook._after_iter(self, runner, batch_idx, data_batch, outputs, mode)
        else:
            super()._after_iter(runner, batch_idx, data_batch, outputs, mode)

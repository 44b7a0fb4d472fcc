from bigfix_mm.engine.hooks.checkpoint_hook import CheckpointHook
from bigfix_mm.engine.hooks.fixing_sampler_hook import FixingSamplerHook, fixing_statistics
from bigfix_mm.engine.hooks.global_batch_hook import GlobalBatchHook
from bigfix_mm.engine.hooks.loop_timer_hook import LoopTimerHook
from bigfix_mm.engine.hooks.rng_state_hook import RNGStateHook

__all__ = ['CheckpointHook', 'FixingSamplerHook', 'GlobalBatchHook', 'LoopTimerHook',
           'RNGStateHook', 'fixing_statistics']

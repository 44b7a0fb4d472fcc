from .checkpoint_hook import CheckpointHook
from .fixing_sampler_hook import FixingSamplerHook, fixing_statistics
from .global_batch_hook import GlobalBatchHook
from .loop_timer_hook import LoopTimerHook
from .rng_state_hook import RNGStateHook

__all__ = ['CheckpointHook', 'FixingSamplerHook', 'GlobalBatchHook', 'LoopTimerHook',
           'RNGStateHook', 'fixing_statistics']

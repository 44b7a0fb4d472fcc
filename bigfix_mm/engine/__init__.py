from bigfix_mm.engine import checkpoint, fsdp, model_wrappers
from bigfix_mm.engine.hooks import FixingSamplerHook, GlobalBatchHook, RNGStateHook
from bigfix_mm.engine.log_processor import EvalLogProcessor

__all__ = ['checkpoint', 'fsdp', 'model_wrappers', 'EvalLogProcessor', 'FixingSamplerHook',
           'GlobalBatchHook', 'RNGStateHook']

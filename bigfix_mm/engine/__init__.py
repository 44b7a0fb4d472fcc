from . import checkpoint, fsdp, model_wrappers, nonfinite
from .hooks import FixingSamplerHook, GlobalBatchHook, RNGStateHook
from .log_processor import EvalLogProcessor

__all__ = ['checkpoint', 'fsdp', 'model_wrappers', 'nonfinite', 'EvalLogProcessor', 'FixingSamplerHook',
           'GlobalBatchHook', 'RNGStateHook']

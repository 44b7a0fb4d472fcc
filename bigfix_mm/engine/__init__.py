from . import checkpoint, model_wrappers, nonfinite
from .hooks import FixingSamplerHook, GlobalBatchHook, RNGStateHook

__all__ = ['checkpoint', 'model_wrappers', 'nonfinite', 'FixingSamplerHook', 'GlobalBatchHook',
           'RNGStateHook']

from . import checkpoint, fsdp, model_wrappers, nonfinite
from .hooks import FixingSamplerHook, GlobalBatchHook, RNGStateHook

checkpoint.install()

__all__ = ['checkpoint', 'fsdp', 'model_wrappers', 'nonfinite', 'FixingSamplerHook',
           'GlobalBatchHook', 'RNGStateHook']

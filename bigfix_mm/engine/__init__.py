from . import checkpoint
from .hooks import FixingSamplerHook

checkpoint.install()

__all__ = ['checkpoint', 'FixingSamplerHook']

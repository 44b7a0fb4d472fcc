from .fixing_sampler_hook import FixingSamplerHook, fixing_statistics

__all__ = ['FixingSamplerHook', 'fixing_statistics']

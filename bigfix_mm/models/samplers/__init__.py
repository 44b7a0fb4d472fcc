from .base import TokenSampler
from .halton import HaltonSampler
from .maskgit import MaskGITSampler
from .presets import FIXING_TWINS, SAMPLER_PRESETS, build_sampler, sampler_config
from .token_fixing import TokenFixingSampler

__all__ = ['TokenSampler', 'MaskGITSampler', 'HaltonSampler', 'TokenFixingSampler',
           'SAMPLER_PRESETS', 'FIXING_TWINS', 'build_sampler', 'sampler_config']

from .base import TokenSampler
from .halton import HaltonSampler
from .maskgit import MaskGITSampler
from .token_fixing import TokenFixingSampler

__all__ = ['TokenSampler', 'MaskGITSampler', 'HaltonSampler', 'TokenFixingSampler']

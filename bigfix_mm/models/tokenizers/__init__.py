from .base import BaseTokenizer, FrozenTokenizer
from .diffusers_vq import DiffusersVQTokenizer
from .lfq import LookupFreeQuantizer
from .quantizer import VectorQuantizer
from .rgb_quant import RGBQuantTokenizer
from .video import BaseVideoTokenizer, PerFrameTokenizer
from .vq_autoencoder import VQ_ARCHS, VQAutoencoder, resolve_arch
from .vqgan import VQGANTokenizer

__all__ = [
    'BaseTokenizer', 'FrozenTokenizer', 'DiffusersVQTokenizer', 'LookupFreeQuantizer', 'VectorQuantizer',
    'RGBQuantTokenizer', 'VQ_ARCHS',
    'VQAutoencoder', 'resolve_arch', 'VQGANTokenizer', 'BaseVideoTokenizer', 'PerFrameTokenizer'
]

from bigfix_mm.models.tokenizers.base import BaseTokenizer, FrozenTokenizer
from bigfix_mm.models.tokenizers.diffusers_vq import DiffusersVQTokenizer
from bigfix_mm.models.tokenizers.rgb_quant import RGBQuantTokenizer
from bigfix_mm.models.tokenizers.video import BaseVideoTokenizer, PerFrameTokenizer
from bigfix_mm.models.tokenizers.vqgan import VQGANTokenizer

__all__ = [
    'BaseTokenizer', 'FrozenTokenizer', 'DiffusersVQTokenizer', 'RGBQuantTokenizer',
    'VQGANTokenizer', 'BaseVideoTokenizer', 'PerFrameTokenizer'
]

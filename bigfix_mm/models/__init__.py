from .bigfix import BIGFix
from .data_preprocessor import TokenDataPreprocessor
from .heads import MaskedBitHead, SoftmaxHead, TokenHead
from .injection import CorruptedTokens, TokenInjector
from .samplers import HaltonSampler, MaskGITSampler, TokenFixingSampler, TokenSampler
from .tokenizers import BaseTokenizer, DiffusersVQTokenizer, RGBQuantTokenizer, VQGANTokenizer
from .transformer import TRANSFORMER_SIZES, BidirectionalTransformer
from .vq import VQGANTrainer

__all__ = [
    'BIGFix', 'TokenDataPreprocessor', 'CorruptedTokens', 'TokenInjector', 'HaltonSampler',
    'MaskGITSampler', 'TokenFixingSampler', 'TokenSampler', 'BaseTokenizer', 'RGBQuantTokenizer',
    'TRANSFORMER_SIZES', 'BidirectionalTransformer', 'DiffusersVQTokenizer', 'VQGANTokenizer',
    'VQGANTrainer', 'MaskedBitHead', 'SoftmaxHead', 'TokenHead'
]

from bigfix_mm.models.editors.bigfix import (TRANSFORMER_SIZES, BIGFix, BidirectionalTransformer,
                                             HaltonSampler, MaskedBitHead, MaskGITSampler,
                                             SoftmaxHead, TokenDataPreprocessor,
                                             TokenFixingSampler, TokenHead, TokenSampler)
from bigfix_mm.models.editors.vqgan import VQGANTrainer
from bigfix_mm.models.tokenizers import (BaseTokenizer, DiffusersVQTokenizer, RGBQuantTokenizer,
                                         VQGANTokenizer)

__all__ = [
    'BIGFix', 'TokenDataPreprocessor', 'HaltonSampler', 'MaskGITSampler', 'TokenFixingSampler',
    'TokenSampler', 'BaseTokenizer', 'RGBQuantTokenizer', 'TRANSFORMER_SIZES',
    'BidirectionalTransformer', 'DiffusersVQTokenizer', 'VQGANTokenizer', 'VQGANTrainer',
    'MaskedBitHead', 'SoftmaxHead', 'TokenHead'
]

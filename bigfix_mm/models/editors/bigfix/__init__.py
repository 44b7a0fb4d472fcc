"""BIGFix: the model, its bidirectional transformer, output heads, sampler and data
preprocessor."""
from bigfix_mm.models.editors.bigfix.bigfix import BIGFix
from bigfix_mm.models.editors.bigfix.data_preprocessor import TokenDataPreprocessor
from bigfix_mm.models.editors.bigfix.heads import MaskedBitHead, SoftmaxHead, TokenHead
from bigfix_mm.models.editors.bigfix.sampler import (HaltonSampler, MaskGITSampler,
                                                     TokenFixingSampler, TokenSampler)
from bigfix_mm.models.editors.bigfix.transformer import TRANSFORMER_SIZES, BidirectionalTransformer

__all__ = ['BIGFix', 'TokenDataPreprocessor', 'MaskedBitHead', 'SoftmaxHead', 'TokenHead',
           'HaltonSampler', 'MaskGITSampler', 'TokenFixingSampler', 'TokenSampler',
           'TRANSFORMER_SIZES', 'BidirectionalTransformer']

from .base import TokenDistribution, TokenHead
from .bits import bits_for_codebook, bits_to_ids, ids_to_bits, pack_bits, unpack_bits
from .masked_bit_head import BitEmbedding, MaskedBitHead
from .softmax_head import SoftmaxHead

__all__ = [
    'TokenDistribution', 'TokenHead', 'bits_for_codebook', 'bits_to_ids', 'ids_to_bits',
    'pack_bits', 'unpack_bits', 'BitEmbedding', 'MaskedBitHead', 'SoftmaxHead'
]

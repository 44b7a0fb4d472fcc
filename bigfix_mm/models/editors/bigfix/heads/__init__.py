from bigfix_mm.models.editors.bigfix.heads.base import TokenDistribution, TokenHead
from bigfix_mm.core.bits import bits_for_codebook, bits_to_ids, ids_to_bits, pack_bits, unpack_bits
from bigfix_mm.models.editors.bigfix.heads.masked_bit_head import BitEmbedding, MaskedBitHead
from bigfix_mm.models.editors.bigfix.heads.softmax_head import SoftmaxHead

__all__ = [
    'TokenDistribution', 'TokenHead', 'bits_for_codebook', 'bits_to_ids', 'ids_to_bits',
    'pack_bits', 'unpack_bits', 'BitEmbedding', 'MaskedBitHead', 'SoftmaxHead'
]

import pytest
import torch

from bigfix_mm.core.bits import (bits_for_codebook, bits_to_ids, ids_to_bits, pack_bits,
                                         unpack_bits)


@pytest.mark.parametrize('b', [1, 2, 3, 6, 10])
def test_exhaustive_round_trip_small_b(b):
    ids = torch.arange(2**b)
    bits = ids_to_bits(ids, b)
    assert bits.dtype == torch.uint8 and bits.shape == (2**b, b)
    assert torch.equal(bits_to_ids(bits), ids)
    assert torch.equal(bits_to_ids(bits.bool()), ids)
    assert len({tuple(r.tolist()) for r in bits}) == 2**b  # every pattern once
    assert torch.equal(unpack_bits(pack_bits(bits), b), bits)


def test_bit_order_is_lsb_first():
    assert ids_to_bits(torch.tensor(6), 4).tolist() == [0, 1, 1, 0]
    assert bits_to_ids(torch.tensor([1, 0, 0, 1])).item() == 9


def test_boundaries_at_32_bits():
    top = 2**32 - 1
    ids = torch.tensor([0, 1, 2**31 - 1, 2**31, 2**31 + 1, top - 1, top], dtype=torch.long)
    bits = ids_to_bits(ids, 32)
    assert torch.equal(bits_to_ids(bits), ids)
    assert bits[-1].sum() == 32 and bits[3].tolist() == [0] * 31 + [1]
    packed = pack_bits(bits)
    assert packed.shape == (7, 4)
    assert torch.equal(unpack_bits(packed, 32), bits)
    # random ids over the full range, on a (B, H, W) grid
    gen = torch.Generator().manual_seed(0)
    grid = torch.randint(0, 2**32, (3, 5, 5), generator=gen, dtype=torch.long)
    assert torch.equal(bits_to_ids(ids_to_bits(grid, 32)), grid)


def test_out_of_range_ids_raise():
    with pytest.raises(ValueError, match='2\\^4'):
        ids_to_bits(torch.tensor([16]), 4)
    with pytest.raises(ValueError, match='2\\^32'):
        ids_to_bits(torch.tensor([2**32]), 32)
    with pytest.raises(ValueError, match='bits'):
        ids_to_bits(torch.tensor([1]), 33)


def test_bits_for_codebook():
    assert bits_for_codebook(1024) == 10 and bits_for_codebook(2**32) == 32
    with pytest.raises(ValueError, match='power of two'):
        bits_for_codebook(1000)

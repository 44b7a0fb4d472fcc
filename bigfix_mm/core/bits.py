"""Exact conversion between integer token ids and their bits (up to 32 bits).

Bit ``i`` of an id is ``(id >> i) & 1`` (least significant bit first), so
``bits[..., 0]`` is the lowest bit. Ids are int64, so every id of a codebook of
size up to 2^32 (and its mask id 2^32) is represented without overflow.
"""
import torch

MAX_BITS = 32


def check_bits(bits: int) -> int:
    """Return ``bits`` as an int, or raise if it is not in [1, 32]."""
    if not isinstance(bits, int) or isinstance(bits, bool) or not 1 <= bits <= MAX_BITS:
        raise ValueError(f'bits={bits!r} must be an int in [1, {MAX_BITS}]')
    return bits


def bits_for_codebook(codebook_size: int) -> int:
    """b with 2^b == codebook_size; raises if the size is not a power of two."""
    k = int(codebook_size)
    b = k.bit_length() - 1
    if k < 2 or (1 << b) != k or b > MAX_BITS:
        raise ValueError(f'codebook_size={codebook_size} must be a power of two 2^b with '
                         f'1 <= b <= {MAX_BITS} for a bit representation: use a binary '
                         '(lookup-free) tokenizer or set codebook_size = 2 ** bits.')
    return b


def _weights(bits: int, device: torch.device) -> torch.Tensor:
    return torch.ones((), dtype=torch.long, device=device) << torch.arange(
        bits, dtype=torch.long, device=device)  # (b,) 1, 2, 4, ...


def bit_table(ids: torch.Tensor, bits: int) -> torch.Tensor:
    """(...) int64 ids -> (..., bits) int64 bits, LSB first (no range check; hot path)."""
    return (ids.long().unsqueeze(-1) >> torch.arange(bits, dtype=torch.long, device=ids.device)) & 1


def ids_from_bit_table(bits_tensor: torch.Tensor) -> torch.Tensor:
    """(..., b) bits in {0, 1} (any integer or bool dtype), LSB first -> (...) int64 ids
    (no checks; hot path)."""
    return (bits_tensor.long() * _weights(int(bits_tensor.shape[-1]), bits_tensor.device)).sum(-1)


def ids_to_bits(ids: torch.Tensor, bits: int) -> torch.Tensor:
    """(...) integer ids in [0, 2^bits) -> (..., bits) uint8 in {0, 1}, LSB first.

    Raises on ids outside the range (one host sync; the bits would not round-trip).
    """
    bits = check_bits(bits)
    ids = ids.long()
    if ids.numel() and (int(ids.min()) < 0 or int(ids.max()) >= (1 << bits)):
        raise ValueError(f'ids must be in [0, 2^{bits}) to have {bits} bits, got '
                         f'[{int(ids.min())}, {int(ids.max())}]')
    return bit_table(ids, bits).to(torch.uint8)


def bits_to_ids(bits_tensor: torch.Tensor) -> torch.Tensor:
    """(..., b) bits (uint8 / bool / integer in {0, 1}), LSB first -> (...) int64 ids."""
    b = check_bits(int(bits_tensor.shape[-1]))
    values = bits_tensor.long()
    if values.numel() and (int(values.min()) < 0 or int(values.max()) > 1):
        raise ValueError('bits must be 0 or 1')
    return ids_from_bit_table(values)


def pack_bits(bits_tensor: torch.Tensor) -> torch.Tensor:
    """(..., b) bits -> (..., ceil(b / 8)) uint8 bytes, little-endian (compact storage)."""
    b = check_bits(int(bits_tensor.shape[-1]))
    ids = bits_to_ids(bits_tensor)
    n_bytes = (b + 7) // 8
    shifts = 8 * torch.arange(n_bytes, dtype=torch.long, device=ids.device)
    return ((ids.unsqueeze(-1) >> shifts) & 0xFF).to(torch.uint8)


def unpack_bits(packed: torch.Tensor, bits: int) -> torch.Tensor:
    """Inverse of :func:`pack_bits`: (..., ceil(b / 8)) uint8 -> (..., b) uint8 bits."""
    bits = check_bits(bits)
    shifts = 8 * torch.arange(packed.shape[-1], dtype=torch.long, device=packed.device)
    ids = (packed.long() << shifts).sum(-1)
    return ids_to_bits(ids, bits)

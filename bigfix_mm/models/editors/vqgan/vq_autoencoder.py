"""The VQGAN autoencoder: encoder, quantiser and decoder in the published layout.

Module names reproduce LlamaGen's ``VQModel`` (``encoder.conv_blocks.{level}.res.{i}``,
``encoder.mid.{0,1,2}``, ``quantize.embedding``, ``quant_conv``, ...), so a
LlamaGen state dict loads with no renaming; taming-transformers checkpoints
(``encoder.down.{level}.block.{i}``, ``mid.block_1``, ...) are renamed by
:func:`bigfix_mm.models.tokenizers.convert.taming_to_native`.
"""
from typing import Dict, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import nn

from bigfix_mm.models.editors.vqgan.quantizer import VectorQuantizer
from bigfix_mm.models.editors.vqgan.vq_blocks import AttnBlock, Downsample, ResnetBlock, Upsample, group_norm

# Named architectures (one table, like timm's model sizes). ``attn_levels`` lists
# the resolution levels (0 = full resolution) whose residual blocks are followed
# by self-attention; both families put it at the lowest resolution only.
VQ_ARCHS: Dict[str, dict] = {
    # LlamaGen VQ-16 (vq_ds16_c2i.pt): f16, K=16384, D=8, l2-normalised codes.
    'llamagen-vq16': dict(ch=128, ch_mult=(1, 1, 2, 2, 4), num_res_blocks=2, z_channels=256,
                          codebook_size=16384, code_dim=8, l2_norm=True, usage_history=65536),
    # LlamaGen VQ-8: f8, same codebook.
    'llamagen-vq8': dict(ch=128, ch_mult=(1, 2, 2, 4), num_res_blocks=2, z_channels=256,
                         codebook_size=16384, code_dim=8, l2_norm=True, usage_history=65536),
    # taming-transformers VQGAN ImageNet f16 with K=1024 (used by MaskGIT-PyTorch).
    'taming-f16-1024': dict(ch=128, ch_mult=(1, 1, 2, 2, 4), num_res_blocks=2, z_channels=256,
                            codebook_size=1024, code_dim=256, l2_norm=False, usage_history=0),
    # taming-transformers VQGAN ImageNet f16 with K=16384.
    'taming-f16-16384': dict(ch=128, ch_mult=(1, 1, 2, 2, 4), num_res_blocks=2, z_channels=256,
                             codebook_size=16384, code_dim=256, l2_norm=False, usage_history=0),
    # bigfix_mm's own small tokenizer for 32x32 images (configs/vqgan/vqgan_cifar10.py): f4 -> 8x8
    # tokens, 1.1M parameters, sized to train on a CPU in minutes.
    'cifar-f4': dict(ch=32, ch_mult=(1, 2, 2), num_res_blocks=1, z_channels=64,
                     codebook_size=1024, code_dim=8, l2_norm=True, usage_history=8192,
                     norm_groups=8),
    # the same network with a lookup-free (binary) quantiser: set the bits in `quantizer`
    # (configs/vqgan/vqgan_cifar10_lfq.py), e.g. quantizer=dict(type='LookupFreeQuantizer', bits=10).
    'cifar-f4-lfq': dict(ch=32, ch_mult=(1, 2, 2), num_res_blocks=1, z_channels=64,
                         norm_groups=8),
}


def resolve_arch(arch: Optional[str] = None, **overrides) -> dict:
    """Kwargs of :class:`VQAutoencoder`: the named preset updated by ``overrides``."""
    if arch is None:
        return dict(overrides)
    if arch not in VQ_ARCHS:
        raise KeyError(f'unknown VQ arch={arch!r}; choose one of {sorted(VQ_ARCHS)} or pass '
                       'the architecture kwargs (ch, ch_mult, ...) with arch=None.')
    return {**VQ_ARCHS[arch], **overrides}


class VQEncoder(nn.Module):
    """(B, 3, H, W) in [-1, 1] -> (B, z_channels, H/f, W/f), f = 2^(len(ch_mult) - 1)."""

    def __init__(self, ch: int, ch_mult: Sequence[int], num_res_blocks: int, z_channels: int,
                 attn_levels: Sequence[int], in_channels: int = 3, dropout: float = 0.0,
                 norm_groups: int = 32,
                 quantizer: Optional[dict] = None):
        super().__init__()
        levels = len(ch_mult)
        self.conv_in = nn.Conv2d(in_channels, ch, 3, padding=1)
        self.conv_blocks = nn.ModuleList()
        block_in = ch
        for level, mult in enumerate(ch_mult):
            stage = nn.Module()
            stage.res = nn.ModuleList()
            stage.attn = nn.ModuleList()
            for _ in range(num_res_blocks):
                stage.res.append(ResnetBlock(block_in, ch * mult, dropout, norm_groups))
                block_in = ch * mult
                if level in attn_levels:
                    stage.attn.append(AttnBlock(block_in, norm_groups))
            if level != levels - 1:
                stage.downsample = Downsample(block_in)
            self.conv_blocks.append(stage)
        self.mid = _middle(block_in, dropout, norm_groups)
        self.norm_out = group_norm(block_in, norm_groups)
        self.conv_out = nn.Conv2d(block_in, z_channels, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv_in(x)
        for stage in self.conv_blocks:
            h = _run_stage(stage, h)
            if hasattr(stage, 'downsample'):
                h = stage.downsample(h)  # (B, C, H/2, W/2)
        for block in self.mid:
            h = block(h)
        return self.conv_out(F.silu(self.norm_out(h)))


class VQDecoder(nn.Module):
    """(B, z_channels, h, w) -> (B, 3, h * f, w * f); stages are stored lowest resolution first."""

    def __init__(self, ch: int, ch_mult: Sequence[int], num_res_blocks: int, z_channels: int,
                 attn_levels: Sequence[int], out_channels: int = 3, dropout: float = 0.0,
                 norm_groups: int = 32,
                 quantizer: Optional[dict] = None):
        super().__init__()
        block_in = ch * ch_mult[-1]
        self.conv_in = nn.Conv2d(z_channels, block_in, 3, padding=1)
        self.mid = _middle(block_in, dropout, norm_groups)
        self.conv_blocks = nn.ModuleList()
        for level in reversed(range(len(ch_mult))):
            stage = nn.Module()
            stage.res = nn.ModuleList()
            stage.attn = nn.ModuleList()
            for _ in range(num_res_blocks + 1):
                stage.res.append(ResnetBlock(block_in, ch * ch_mult[level], dropout, norm_groups))
                block_in = ch * ch_mult[level]
                if level in attn_levels:
                    stage.attn.append(AttnBlock(block_in, norm_groups))
            if level != 0:
                stage.upsample = Upsample(block_in)
            self.conv_blocks.append(stage)
        self.norm_out = group_norm(block_in, norm_groups)
        self.conv_out = nn.Conv2d(block_in, out_channels, 3, padding=1)

    @property
    def last_layer(self) -> torch.Tensor:
        return self.conv_out.weight

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = self.conv_in(z)
        for block in self.mid:
            h = block(h)
        for stage in self.conv_blocks:
            h = _run_stage(stage, h)
            if hasattr(stage, 'upsample'):
                h = stage.upsample(h)  # (B, C, 2h, 2w)
        return self.conv_out(F.silu(self.norm_out(h)))


def _middle(channels: int, dropout: float, norm_groups: int) -> nn.ModuleList:
    return nn.ModuleList([ResnetBlock(channels, channels, dropout, norm_groups),
                          AttnBlock(channels, norm_groups),
                          ResnetBlock(channels, channels, dropout, norm_groups)])


def _run_stage(stage: nn.Module, h: torch.Tensor) -> torch.Tensor:
    for i, res in enumerate(stage.res):
        h = res(h)
        if len(stage.attn):
            h = stage.attn[i](h)
    return h


class VQAutoencoder(nn.Module):
    """Encoder -> 1x1 ``quant_conv`` -> quantiser -> 1x1 ``post_quant_conv`` -> decoder.

    Images are (B, 3, H, W) floats in [-1, 1].

    Args:
        ch: base width.
        ch_mult: width multiplier per resolution level; the downsampling
            factor is ``2 ** (len(ch_mult) - 1)``.
        num_res_blocks: residual blocks per encoder level (decoder: one more).
        z_channels: encoder output / decoder input width.
        codebook_size: K.
        code_dim: D, the width of the codes.
        l2_norm, usage_history, beta, ema_decay, restart_interval,
            dead_threshold, usage_decay: see :class:`VectorQuantizer`.
        attn_levels: levels followed by attention; default: the last level.
        dropout: dropout inside residual blocks.
        norm_groups: GroupNorm groups (32 in the published models).
        quantizer: config of another quantiser built from the registry, e.g.
            ``dict(type='LookupFreeQuantizer', bits=16)``; it then owns the
            codebook size and code width (``codebook_size``, ``code_dim`` and
            the VQ-only kwargs above are not used).
    """

    def __init__(self,
                 ch: int = 128,
                 ch_mult: Sequence[int] = (1, 1, 2, 2, 4),
                 num_res_blocks: int = 2,
                 z_channels: int = 256,
                 codebook_size: int = 16384,
                 code_dim: int = 8,
                 l2_norm: bool = True,
                 usage_history: int = 0,
                 beta: float = 0.25,
                 ema_decay: Optional[float] = None,
                 restart_interval: int = 0,
                 dead_threshold: float = 0.03,
                 usage_decay: float = 0.99,
                 attn_levels: Optional[Sequence[int]] = None,
                 dropout: float = 0.0,
                 norm_groups: int = 32,
                 quantizer: Optional[dict] = None):
        super().__init__()
        ch_mult = tuple(int(m) for m in ch_mult)
        attn_levels = (len(ch_mult) - 1, ) if attn_levels is None else tuple(attn_levels)
        self.downsample = 2**(len(ch_mult) - 1)
        self.encoder = VQEncoder(ch, ch_mult, num_res_blocks, z_channels, attn_levels,
                                 dropout=dropout, norm_groups=norm_groups)
        self.decoder = VQDecoder(ch, ch_mult, num_res_blocks, z_channels, attn_levels,
                                 dropout=dropout, norm_groups=norm_groups)
        if quantizer is None:
            self.quantize = VectorQuantizer(codebook_size, code_dim, beta=beta, l2_norm=l2_norm,
                                            usage_history=usage_history, ema_decay=ema_decay,
                                            restart_interval=restart_interval,
                                            dead_threshold=dead_threshold,
                                            usage_decay=usage_decay)
        else:
            from bigfix_mm.registry import MODELS
            self.quantize = MODELS.build(quantizer)
        self.codebook_size = self.quantize.codebook_size
        code_dim = self.quantize.code_dim
        self.quant_conv = nn.Conv2d(z_channels, code_dim, 1)
        self.post_quant_conv = nn.Conv2d(code_dim, z_channels, 1)

    def encode(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor, Dict[str, torch.Tensor]]:
        """(B, 3, H, W) in [-1, 1] -> z_q (B, D, h, w), ids (B, h, w) int64, quantiser losses."""
        return self.quantize(self.quant_conv(self.encoder(x)))

    def decode(self, z_q: torch.Tensor) -> torch.Tensor:
        """(B, D, h, w) quantised latents -> (B, 3, H, W) roughly in [-1, 1]."""
        return self.decoder(self.post_quant_conv(z_q))

    def decode_ids(self, ids: torch.Tensor) -> torch.Tensor:
        """(B, h, w) int64 ids -> (B, 3, H, W) roughly in [-1, 1]."""
        return self.decode(self.quantize.lookup(ids))

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor, Dict[str, torch.Tensor]]:
        """Reconstruction (B, 3, H, W), ids (B, h, w) and quantiser losses."""
        z_q, ids, losses = self.encode(x)
        return self.decode(z_q), ids, losses

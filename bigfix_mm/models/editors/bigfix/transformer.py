"""BidirectionalTransformer: the DiT-style token predictor of MaskGIT / BIGFix."""
import math
from typing import Optional, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from bigfix_mm.registry import MODELS
from bigfix_mm.core.schedules import as_grid3d

# name: (width, depth, heads); see the method notes for published parameter counts.
TRANSFORMER_SIZES = {
    'tiny': (384, 6, 6),
    'small': (512, 12, 6),
    'base': (768, 12, 12),
    'large': (1024, 24, 16),
    'xlarge': (1152, 28, 16),
}


class RMSNorm(nn.Module):
    """Root-mean-square norm with optional learned scale and bias."""

    def __init__(self, dim: int, eps: float = 1e-5, scale: bool = True, bias: bool = False):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim)) if scale else None
        self.bias = nn.Parameter(torch.zeros(dim)) if bias else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.rms_norm(x.float(), (x.shape[-1], ), eps=self.eps).type_as(x)
        if self.weight is not None:
            y = y * self.weight
        if self.bias is not None:
            y = y + self.bias
        return y


def modulate(x: torch.Tensor, shift: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """adaLN modulation; x (B, L, D), shift/scale (B, D)."""
    return x * (1 + scale.unsqueeze(1)) + shift.unsqueeze(1)


def swiglu_hidden(width: int, multiple_of: int = 256) -> int:
    """Hidden size of the SwiGLU MLP: 2/3 of 4*width rounded up to ``multiple_of``."""
    hidden = int(2 * 4 * width / 3)
    return multiple_of * math.ceil(hidden / multiple_of)


class SwiGLU(nn.Module):
    """SwiGLU MLP; ``dropout`` on the hidden layer in training."""

    def __init__(self, width: int, hidden: int, dropout: float = 0.0):
        super().__init__()
        self.dropout = dropout
        self.w_gate = nn.Linear(width, hidden, bias=False)
        self.w_up = nn.Linear(width, hidden, bias=False)
        self.w_down = nn.Linear(hidden, width, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        hidden = F.silu(self.w_gate(x)) * self.w_up(x)
        if self.dropout > 0 and self.training:
            hidden = F.dropout(hidden, self.dropout, True)
        return self.w_down(hidden)


class Attention(nn.Module):
    """Multi-head self-attention with QK RMSNorm and SDPA (flash where available).

    The attention width is ``heads * (width // heads)``, so widths that ``heads``
    does not divide (size small: 512 / 6) work as in the published models.
    ``dropout`` applies in training to the attention probabilities and to the
    projected output.
    """

    def __init__(self, width: int, heads: int, dropout: float = 0.0):
        super().__init__()
        self.heads = heads
        self.dropout = dropout
        self.inner = heads * (width // heads)
        self.qkv = nn.Linear(width, 3 * self.inner, bias=False)
        self.q_norm = RMSNorm(self.inner, scale=False)
        self.k_norm = RMSNorm(self.inner, scale=False)
        self.proj = nn.Linear(self.inner, width, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        bsz, length, _ = x.shape
        q, k, v = self.qkv(x).chunk(3, dim=-1)  # 3 x (B, L, inner)
        q, k = self.q_norm(q).type_as(v), self.k_norm(k).type_as(v)
        q, k, v = (t.view(bsz, length, self.heads, -1).transpose(1, 2) for t in (q, k, v))
        drop = self.dropout if self.training else 0.0
        out = F.scaled_dot_product_attention(q, k, v, dropout_p=drop)  # (B, heads, L, inner / heads)
        out = self.proj(out.transpose(1, 2).reshape(bsz, length, self.inner))
        return F.dropout(out, drop, True) if drop > 0 else out


class Block(nn.Module):
    """Pre-norm transformer block with adaLN-Zero conditioning."""

    def __init__(self, width: int, heads: int, dropout: float = 0.0):
        super().__init__()
        self.ada = nn.Sequential(nn.SiLU(), nn.Linear(width, 6 * width))
        self.norm1 = RMSNorm(width)
        self.attn = Attention(width, heads, dropout)
        self.norm2 = RMSNorm(width)
        self.mlp = SwiGLU(width, swiglu_hidden(width), dropout)

    def forward(self, x: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        shift1, scale1, gate1, shift2, scale2, gate2 = self.ada(cond).chunk(6, dim=-1)
        x = x + gate1.unsqueeze(1) * self.attn(modulate(self.norm1(x), shift1, scale1))
        x = x + gate2.unsqueeze(1) * self.mlp(modulate(self.norm2(x), shift2, scale2))
        return x


def build_head(cfg: Optional[dict], codebook_size: int, width: int) -> nn.Module:
    """The output head of a transformer: the tied softmax when ``cfg`` is None, else
    ``cfg`` built from the registry with the transformer's K and width."""
    if cfg is None:
        from bigfix_mm.models.editors.bigfix.heads import SoftmaxHead
        return SoftmaxHead(codebook_size, width)
    return MODELS.build(cfg, default_args=dict(codebook_size=codebook_size, width=width))


@MODELS.register_module()
class BidirectionalTransformer(nn.Module):
    """Class-conditional bidirectional transformer over a (T, H, W) token grid.

    Args:
        codebook_size: K; the input vocabulary is K + 1 (the last id is the mask).
        grid: token grid (H, W) or (T, H, W).
        num_classes: number of classes C; embedding row C is the "null" class
            used for classifier-free guidance.
        size: a name from :data:`TRANSFORMER_SIZES`, or None with explicit
            ``width``/``depth``/``heads``.
        num_registers: learned register tokens appended to the sequence.
        grad_checkpointing: recompute block activations in backward.
        dropout: training dropout on the attention probabilities, the attention
            output and the SwiGLU hidden layer (the authors train with 0.1).
        head: output head config (``bigfix_mm.models.editors.bigfix.heads``): default the tied
            softmax ``dict(type='SoftmaxHead')``; ``dict(type='MaskedBitHead',
            depth=2, steps=...)`` predicts the log2 K bits of each token (its
            input embedding is built from the bits, not a K-row table).

    Shapes:
        ids (B, L) int64 in [0, K]; labels (B,) int64 in [0, C]; returns the
        head's output: logits (B, L, K + 1) for the softmax head, the final
        hidden states (B, L, D) for the bit head.
    """

    def __init__(self,
                 codebook_size: int,
                 grid: Sequence[int] = (16, 16),
                 num_classes: int = 1000,
                 size: Optional[str] = 'tiny',
                 width: Optional[int] = None,
                 depth: Optional[int] = None,
                 heads: Optional[int] = None,
                 num_registers: int = 1,
                 grad_checkpointing: bool = False,
                 dropout: float = 0.0,
                 head: Optional[dict] = None):
        super().__init__()
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f'dropout={dropout} must be in [0, 1)')
        if size is not None:
            if size not in TRANSFORMER_SIZES:
                raise ValueError(f'size={size!r} is not one of {sorted(TRANSFORMER_SIZES)}')
            width, depth, heads = TRANSFORMER_SIZES[size]
        if None in (width, depth, heads):
            raise ValueError('give `size` or all of `width`, `depth`, `heads`')
        self.codebook_size = int(codebook_size)
        self.mask_id = self.codebook_size
        self.grid = as_grid3d(grid)
        self.num_classes = int(num_classes)
        self.width = width
        self.grad_checkpointing = grad_checkpointing
        t_size, h_size, w_size = self.grid

        # output head (bigfix_mm.models.editors.bigfix.heads); it also makes the input embedding
        self.head = build_head(head, self.codebook_size, width)
        self.tok_emb = self.head.input_embedding()
        self.cls_emb = nn.Embedding(self.num_classes + 1, width)
        # Factorised position table: spatial (H*W) + temporal (T); an image model's
        # spatial table is reused unchanged by a video model.
        self.pos_emb = nn.Parameter(torch.zeros(h_size * w_size, width))
        self.time_emb = nn.Parameter(torch.zeros(t_size, width)) if t_size > 1 else None
        self.registers = nn.Parameter(torch.zeros(num_registers, width)) if num_registers else None
        self.blocks = nn.ModuleList(Block(width, heads, dropout) for _ in range(depth))
        self.final_norm = RMSNorm(width, bias=True)
        self.final_ada = nn.Sequential(nn.SiLU(), nn.Linear(width, 2 * width))
        if self.head.tied:
            self.head_bias = nn.Parameter(torch.zeros(self.codebook_size + 1))
        self.reset_parameters()

    @property
    def num_tokens(self) -> int:
        t_size, h_size, w_size = self.grid
        return t_size * h_size * w_size

    def reset_parameters(self) -> None:
        for module in self.modules():
            if isinstance(module, nn.Linear):
                nn.init.xavier_uniform_(module.weight)
                if module.bias is not None:
                    nn.init.zeros_(module.bias)
        tables = (self.tok_emb.weight, ) if isinstance(self.tok_emb, nn.Embedding) else ()
        for emb in (*tables, self.cls_emb.weight, self.pos_emb):
            nn.init.normal_(emb, std=0.02)
        for extra in (self.time_emb, self.registers):
            if extra is not None:
                nn.init.normal_(extra, std=0.02)
        for block in self.blocks:  # adaLN-Zero: every block starts as the identity
            nn.init.zeros_(block.ada[1].weight)
            nn.init.zeros_(block.ada[1].bias)
        nn.init.zeros_(self.final_ada[1].weight)
        nn.init.zeros_(self.final_ada[1].bias)
        if not isinstance(self.tok_emb, nn.Embedding):
            self.tok_emb.reset_parameters()
        self.head.reset_parameters()

    def position_embedding(self) -> torch.Tensor:
        """(L, D) position table for the flattened (T, H, W) grid."""
        pos = self.pos_emb
        if self.time_emb is not None:
            pos = (self.time_emb[:, None, :] + pos[None]).reshape(-1, self.width)
        return pos

    def forward(self,
                ids: torch.Tensor,
                labels: torch.Tensor,
                drop_label: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Run the trunk and return the head's output at every position.

        Args:
            ids: (B, L) or (B, *grid) int64 token ids (mask id = K).
            labels: (B,) int64 class ids; id C means unconditional.
            drop_label: optional (B,) bool; True replaces the label by the null class.

        Returns:
            ``head.output``: (B, L, K + 1) logits for the softmax head.
        """
        bsz = ids.shape[0]
        ids = ids.reshape(bsz, -1)
        if ids.shape[1] != self.num_tokens:
            raise ValueError(f'ids hold {ids.shape[1]} tokens per sample but the transformer '
                             f'was built for grid={self.grid} ({self.num_tokens} tokens)')
        labels = labels.reshape(bsz).long()
        if drop_label is not None:
            labels = torch.where(drop_label.reshape(bsz), torch.full_like(labels, self.num_classes),
                                 labels)
        cond = self.cls_emb(labels)  # (B, D)
        x = self.tok_emb(ids) + self.position_embedding()  # (B, L, D)
        if self.registers is not None:
            x = torch.cat([x, self.registers.expand(bsz, -1, -1).to(x.dtype)], dim=1)
        for block in self.blocks:
            if self.grad_checkpointing and self.training:
                x = torch.utils.checkpoint.checkpoint(block, x, cond, use_reentrant=False)
            else:
                x = block(x, cond)
        x = x[:, :self.num_tokens]  # drop registers
        shift, scale = self.final_ada(cond).chunk(2, dim=-1)
        x = modulate(self.final_norm(x), shift, scale)
        return self.head.output(x, self)  # softmax: (B, L, K + 1) logits of the tied head

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())

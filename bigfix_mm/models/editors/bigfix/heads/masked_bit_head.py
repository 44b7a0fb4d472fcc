"""Masked bit modelling head: a token is predicted as its b bits, not a 2^b softmax.

From each token's hidden state a small bidirectional model over the b bits
(bit tokens: value 0 / 1 / mask + bit-position embedding + the projected hidden
state) predicts every masked bit. Training masks a random number of bits and
scores the masked ones; sampling reveals the bits over ``steps`` passes.

Log-likelihood of an id: the chain of bit probabilities along the fixed reveal
order (bit 0, then bit 1, ... one bit at a time; bit i = ``(id >> i) & 1``)::

    log p(id | h) = sum_i log p(bit_i | bits_<i, h)

computed teacher-forced in one batched pass of b masked inputs. It is exactly
normalised over the 2^b ids. With ``steps == bits`` sampling draws exactly from
this distribution; with fewer steps several bits are drawn per pass (faster,
the bits of one pass independent given the revealed ones).

Classifier-free guidance is applied to the bit logits at every bit pass:
``(1 + w) l_cond - w l_uncond``, both computed on the same revealed bits.
"""
from typing import List, Optional

import torch
import torch.nn.functional as F
from torch import nn

from bigfix_mm.registry import MODELS
from bigfix_mm.models.editors.bigfix.heads.base import TokenDistribution, TokenHead
from bigfix_mm.core.bits import bit_table, bits_for_codebook

MASK_BIT = 2  # bit value id of a masked bit (0 and 1 are the bit values)


class BitEmbedding(nn.Module):
    """Input embedding from bits: ``W (2 bits - 1) + c`` for ids < 2^b, a learned
    mask vector for the mask id 2^b; (b + 2) D parameters instead of (2^b + 1) D."""

    def __init__(self, bits: int, width: int):
        super().__init__()
        self.bits = bits
        self.proj = nn.Linear(bits, width)
        self.mask = nn.Parameter(torch.zeros(width))

    def reset_parameters(self) -> None:
        nn.init.normal_(self.proj.weight, std=0.02)
        nn.init.zeros_(self.proj.bias)
        nn.init.normal_(self.mask, std=0.02)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        """(B, L) int64 ids in [0, 2^b] -> (B, L, D)."""
        is_mask = ids >= (1 << self.bits)
        signs = bit_table(ids.masked_fill(is_mask, 0), self.bits).to(self.proj.weight.dtype) * 2 - 1
        return torch.where(is_mask.unsqueeze(-1), self.mask.to(signs.dtype), self.proj(signs))


class BitBlock(nn.Module):
    """Pre-norm self-attention + MLP block over the b bit tokens of each token."""

    def __init__(self, width: int, heads: int):
        super().__init__()
        if width % heads:
            raise ValueError(f'bit head width={width} must be divisible by heads={heads}')
        self.heads = heads
        self.norm1 = nn.LayerNorm(width)
        self.qkv = nn.Linear(width, 3 * width)
        self.proj = nn.Linear(width, width)
        self.norm2 = nn.LayerNorm(width)
        self.fc1 = nn.Linear(width, 4 * width)
        self.fc2 = nn.Linear(4 * width, width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        m, b, d = x.shape  # (M, b, d)
        q, k, v = self.qkv(self.norm1(x)).view(m, b, 3, self.heads, d // self.heads).permute(
            2, 0, 3, 1, 4)  # 3 x (M, heads, b, d / heads)
        att = F.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(m, b, d)
        x = x + self.proj(att)
        return x + self.fc2(F.gelu(self.fc1(self.norm2(x))))


@MODELS.register_module()
class MaskedBitHead(TokenHead):
    """Predicts the b = log2 K bits of each token with a small masked bit model.

    Args:
        codebook_size: K = 2^b (set by the transformer).
        width: transformer width D (set by the transformer).
        bits: b; optional, must equal log2(codebook_size) when given.
        bit_width: width d of the bit model.
        depth: number of bit-model blocks.
        heads: attention heads of the bit model.
        steps: bit passes per draw in sampling (1..b; default b: exact chain).
        greedy_steps: bit passes of the deterministic decode behind the logged
            accuracies (each bit thresholded at 0.5 along the reveal order); 1,
            the default, reads every bit from the all-masked input (one pass per
            training step); ``bits`` decodes one bit per pass.
        chunk_rows: bit sequences per bit-model call in :meth:`log_prob`-style
            passes (bounds memory; b sequences per token).

    ``output`` is the hidden state (B, L, D) itself; the loss is the binary
    cross-entropy on masked bits, averaged over the masked bits and scaled by b
    (per-token nats scale, as the softmax head's cross-entropy).
    """

    def __init__(self,
                 codebook_size: int,
                 width: int,
                 bits: Optional[int] = None,
                 bit_width: int = 64,
                 depth: int = 2,
                 heads: int = 4,
                 steps: Optional[int] = None,
                 greedy_steps: int = 1,
                 chunk_rows: int = 1 << 16):
        super().__init__(codebook_size, width)
        b = bits_for_codebook(codebook_size)
        if bits is not None and int(bits) != b:
            raise ValueError(f'head.bits={bits} but transformer.codebook_size={codebook_size} = '
                             f'2^{b}: drop head.bits (it follows the codebook) or set '
                             f'codebook_size = 2 ** {bits}.')
        steps = b if steps is None else int(steps)
        if not 1 <= steps <= b:
            raise ValueError(f'head.steps={steps} must be in [1, bits={b}]')
        if not 1 <= int(greedy_steps) <= b:
            raise ValueError(f'head.greedy_steps={greedy_steps} must be in [1, bits={b}]')
        self.bits, self.steps, self.bit_width = b, steps, int(bit_width)
        self.greedy_steps = int(greedy_steps)
        self.depth, self.num_heads = int(depth), int(heads)
        self.chunk_rows = int(chunk_rows)
        self.cond = nn.Linear(width, bit_width)
        self.value_emb = nn.Embedding(3, bit_width)  # 0, 1, mask
        self.pos_emb = nn.Parameter(torch.zeros(b, bit_width))
        self.blocks = nn.ModuleList(BitBlock(bit_width, heads) for _ in range(depth))
        self.norm = nn.LayerNorm(bit_width)
        self.out = nn.Linear(bit_width, 1)

    def reset_parameters(self) -> None:
        # unit scale, like the projected hidden state they are added to: small bit-value and
        # bit-position embeddings would be swamped and every bit would look alike
        nn.init.normal_(self.value_emb.weight, std=1.0)
        nn.init.normal_(self.pos_emb, std=1.0)

    def input_embedding(self) -> nn.Module:
        return BitEmbedding(self.bits, self.width)

    def output(self, x: torch.Tensor, owner: nn.Module) -> torch.Tensor:
        return x  # (B, L, D): the bit model runs on demand

    # --------------------------------------------------------------- bit model
    def bit_logits(self, cond: torch.Tensor, values: torch.Tensor) -> torch.Tensor:
        """cond (M, d) projected hidden states, values (M, b) in {0, 1, 2=mask} -> (M, b) logits."""
        x = self.value_emb(values) + self.pos_emb + cond.unsqueeze(1)  # (M, b, d)
        for block in self.blocks:
            x = block(x)
        return self.out(self.norm(x)).squeeze(-1).float()

    def _guided(self, cond, uncond, values, weight: float, temperature: float) -> torch.Tensor:
        logits = self.bit_logits(cond, values)
        if uncond is not None:
            logits = (1 + weight) * logits - weight * self.bit_logits(uncond, values)
        return logits / max(temperature, 1e-6) if temperature != 1.0 else logits

    def reveal_counts(self, steps: Optional[int] = None) -> List[int]:
        """Cumulative number of revealed bits after each pass (python ints)."""
        steps = steps or self.steps
        return [round(self.bits * (s + 1) / steps) for s in range(steps)]

    def decode(self, cond, uncond=None, weight: float = 0.0, temperature: float = 1.0,
               generator: Optional[torch.Generator] = None, greedy: bool = False,
               steps: Optional[int] = None) -> torch.Tensor:
        """Reveal the bits of M tokens over ``steps`` passes (default ``self.steps``):
        (M, d) -> (M,) int64 ids."""
        m = cond.shape[0]
        values = torch.full((m, self.bits), MASK_BIT, dtype=torch.long, device=cond.device)
        start = 0
        for end in self.reveal_counts(steps):
            logits = self._guided(cond, uncond, values, weight, temperature)[:, start:end]
            if greedy:
                bit = (logits > 0).long()
            else:
                u = torch.rand(logits.shape, generator=generator, device=logits.device)
                bit = (u < torch.sigmoid(logits)).long()
            values[:, start:end] = bit
            start = end
        return (values << torch.arange(self.bits, device=values.device)).sum(-1)

    def chain_log_prob(self, cond, ids, uncond=None, weight: float = 0.0,
                       temperature: float = 1.0) -> torch.Tensor:
        """(M, d), (M,) ids -> (M,) float32 sum_i log p(bit_i | bits_<i) (see module doc)."""
        b = self.bits
        target = bit_table(ids, b)  # (M, b)
        step = torch.arange(b, device=ids.device)
        revealed = step.view(b, 1, 1) > step.view(1, 1, b)  # (b, 1, b): input i shows bits < i
        out = []
        per_chunk = max(1, self.chunk_rows // b)
        for lo in range(0, ids.shape[0], per_chunk):
            t = target[lo:lo + per_chunk]  # (m, b)
            m = t.shape[0]
            values = torch.where(revealed, t.unsqueeze(0), MASK_BIT).reshape(b * m, b)
            rep = lambda c: None if c is None else c[lo:lo + m].repeat(b, 1)  # noqa: E731
            logits = self._guided(rep(cond), rep(uncond), values, weight, temperature)
            logits = logits.view(b, m, b).diagonal(dim1=0, dim2=2)  # (m, b): bit i from input i
            out.append(F.logsigmoid(torch.where(t.bool(), logits, -logits)).sum(-1))
        return torch.cat(out) if out else cond.new_zeros(0)

    # --------------------------------------------------------------- interface
    def _project(self, out: torch.Tensor) -> torch.Tensor:
        return self.cond(out.reshape(-1, out.shape[-1]))  # (M, d)

    def loss(self, out: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        cond = self._project(out)
        t = bit_table(target.reshape(-1), self.bits)  # (M, b)
        m, b = t.shape
        n_masked = torch.randint(1, b + 1, (m, 1), device=t.device)
        rank = torch.rand(m, b, device=t.device).argsort(-1).argsort(-1)
        masked = rank < n_masked  # (M, b), 1..b masked bits per token
        logits = self.bit_logits(cond, t.masked_fill(masked, MASK_BIT))
        bce = F.binary_cross_entropy_with_logits(logits, t.float(), reduction='none')
        per_token = (bce * masked).sum(-1) / n_masked.squeeze(-1) * b
        return per_token.view_as(target)

    def nll(self, out: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return -self.chain_log_prob(self._project(out), target.reshape(-1)).view_as(target)

    @torch.no_grad()
    def greedy(self, out: torch.Tensor) -> torch.Tensor:
        return self.decode(self._project(out), greedy=True,
                           steps=self.greedy_steps).view(out.shape[:-1])

    def distribution(self, out, uncond=None, cfg_weight=0.0, temperature=1.0, top_k=None,
                     top_p=None) -> 'BitDistribution':
        if top_k is not None or top_p is not None:
            raise ValueError('top_k / top_p filter a K-way softmax; MaskedBitHead samples bit by '
                             'bit: set the sampler\'s top_k=None and top_p=None.')
        return BitDistribution(self, out, uncond, float(cfg_weight), float(temperature))

    def cost(self) -> dict:
        b, d, big_d = self.bits, self.bit_width, self.width
        emb_params = (b + 2) * big_d  # BitEmbedding
        model_params = sum(p.numel() for p in self.parameters())
        per_layer = 2 * b * (3 * d * d + d * d + 8 * d * d) + 4 * b * b * d  # linears + attention
        bit_pass = self.depth * per_layer + 2 * b * d  # + the 1-logit output
        cond = 2 * big_d * d
        emb = 2 * b * big_d
        return dict(params=emb_params + model_params,
                    train_flops=emb + cond + bit_pass,
                    sample_flops=emb + cond + self.steps * bit_pass,
                    log_prob_flops=cond + b * bit_pass)


class BitDistribution(TokenDistribution):
    """One sampler step of a :class:`MaskedBitHead` (hidden states projected once)."""

    def __init__(self, head: MaskedBitHead, out, uncond, weight: float, temperature: float):
        self.head, self.shape = head, out.shape[:-1]
        self.cond = head._project(out)
        self.uncond = None if uncond is None else head._project(uncond)
        self.weight, self.temperature = weight, temperature

    def sample(self, generator: Optional[torch.Generator] = None) -> torch.Tensor:
        return self.head.decode(self.cond, self.uncond, self.weight, self.temperature,
                                generator).view(self.shape)

    def log_prob(self, ids: torch.Tensor) -> torch.Tensor:
        return self.head.chain_log_prob(self.cond, ids.reshape(-1), self.uncond, self.weight,
                                        self.temperature).view(ids.shape)

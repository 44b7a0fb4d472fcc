"""Cache keys by behaviour: what a sampler *does*, not what its source text says.

A cached cell is valid while the sampler, the transformer's forward pass and the
tokenizer's decoding behave the same. :func:`sampler_fingerprint` runs the cell's
sampler config through a tiny transformer whose weights are a fixed function of
the parameter names (a probe), on fixed labels and a fixed seed, and hashes the
tokens it returns. A refactor that changes no token keeps every key; a change of
behaviour changes the keys of exactly the samplers it affects.
:func:`decode_fingerprint` does the same for the tokenizer's decoding.
"""
import copy
import hashlib
from typing import Dict, Optional, Sequence

import torch

PROBE_WIDTH = dict(size=None, width=32, depth=2, heads=2)
PROBE_BATCH = 12
PROBE_SEED = 0


def _name_seed(name: str) -> int:
    return int(hashlib.sha256(name.encode()).hexdigest()[:12], 16)


@torch.no_grad()
def fill_by_name(module: torch.nn.Module, std: float = 0.5) -> torch.nn.Module:
    """Set every parameter from an RNG seeded by its name: the same weights whatever the
    order in which the module creates them."""
    for name, param in module.named_parameters():
        gen = torch.Generator().manual_seed(_name_seed(name))
        param.copy_(torch.randn(param.shape, generator=gen, dtype=torch.float64).to(param) * std)
    return module


def probe_model(transformer_cfg: dict, codebook_size: int):
    """A BIGFix over a tiny transformer of ``transformer_cfg``'s grid, classes and head
    (width, depth and heads replaced by :data:`PROBE_WIDTH`), weights by name."""
    from mmengine.registry import DefaultScope
    from bigfix_mm.models import BIGFix
    from bigfix_mm.registry import MODELS
    cfg = copy.deepcopy(dict(transformer_cfg))
    cfg.update(PROBE_WIDTH, codebook_size=int(codebook_size))
    with DefaultScope.overwrite_default_scope('mmagic'):
        transformer = fill_by_name(MODELS.build(cfg))
        return BIGFix(transformer=transformer).eval()


def digest(tensor: torch.Tensor) -> str:
    return hashlib.sha256(tensor.contiguous().cpu().numpy().tobytes()).hexdigest()[:16]


@torch.no_grad()
def sampler_fingerprint(sampler_cfg: dict, probe) -> str:
    """Hash of the (B, T, H, W) tokens the sampler returns for the probe model."""
    from bigfix_mm.registry import MODELS
    labels = torch.arange(PROBE_BATCH) % (probe.num_classes + 1)  # with the null class
    gen = torch.Generator().manual_seed(PROBE_SEED)
    tokens = probe.sample(labels, sampler=MODELS.build(dict(sampler_cfg)), generator=gen)
    return digest(tokens.long())


@torch.no_grad()
def decode_fingerprint(model, grid: Optional[Sequence[int]] = None) -> str:
    """Hash of the 8-bit images ``model.decode`` makes of fixed random token grids."""
    grid = tuple(grid or model.grid)
    gen = torch.Generator().manual_seed(PROBE_SEED)
    ids = torch.randint(0, model.codebook_size, (4, *grid), generator=gen).to(model.device)
    images = (model.decode(ids).float().cpu() * 255.0).round().clamp(0, 255).to(torch.uint8)
    return digest(images)


class Fingerprints:
    """Sampler fingerprints of one probe, computed once per distinct config."""

    def __init__(self, transformer_cfg: dict, codebook_size: int):
        self.probe = probe_model(transformer_cfg, codebook_size)
        self._seen: Dict[str, str] = {}

    def __call__(self, sampler_cfg: dict) -> str:
        key = repr(sorted(dict(sampler_cfg).items()))
        if key not in self._seen:
            self._seen[key] = sampler_fingerprint(sampler_cfg, self.probe)
        return self._seen[key]

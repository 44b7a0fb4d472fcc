"""The samplers on the device against the same samplers on the CPU, on a tiny model.

One transformer (64 wide, 2 blocks, 8x8 tokens, K = 512) with every weight drawn from
N(0, 0.2^2) (at its own initialisation the top logits of a position are often within
1e-5 of each other, so that any noise decides) is run on the CPU and, with the same
weights, on the device, in fp32 with TF32 off.

- ``greedy``: temperature 1e-6 and no confidence noise, so that no random draw can
  change a token (a Gumbel draw is O(1) against logits scaled by 1e6): the tokens must
  be the same where the arithmetic allows (a near-tie between two logits can differ
  in the last bits, and a differing token changes the later steps' context).
- ``sampled``: the presets as they are, one seed. CPU and CUDA generators give
  different streams for one seed, so only the agreement rate is reported (about
  1/K where the streams differ, 1.0 on the same device).
- ``greedy_bf16`` (CUDA only): the device under bf16 autocast against the fp32 CPU.
"""
import copy
from typing import List, Sequence

import torch

from bigfix_mm.apis.benchmark import build_transformer
from bigfix_mm.models.editors.bigfix import sampler as sampler_classes
from bigfix_mm.models.editors.bigfix.sampler.presets import sampler_config

PRESETS = ('maskgit', 'halton', 'fix_all', 'fix_low')
GREEDY = dict(temperature=1e-6, confidence_noise=0.0)


def _sample(name: str, net: torch.nn.Module, labels: torch.Tensor, steps: int, seed: int,
            dtype: torch.dtype = torch.float32, **overrides) -> torch.Tensor:
    cfg = sampler_config(name, steps=steps, cfg_scale=1.5, **overrides)
    sampler = getattr(sampler_classes, cfg.pop('type'))(**cfg)
    gen = torch.Generator(device=labels.device).manual_seed(seed)
    with torch.autocast(labels.device.type, dtype=dtype, enabled=dtype != torch.float32):
        return sampler(net, labels, generator=gen)


@torch.no_grad()
def sampler_agreement(device: str, presets: Sequence[str] = PRESETS, steps: int = 8,
                      batch: int = 8, seed: int = 0) -> List[dict]:
    """One line per preset and variant: ``identical`` tokens and the ``agreement`` rate
    (share of equal token ids), device against CPU; plus one line with the largest
    logit difference of a single forward pass."""
    dev = torch.device(device)
    matmul_tf32 = torch.backends.cuda.matmul.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = False
    try:
        torch.manual_seed(seed)
        cpu_net = build_transformer('64x2x2', grid=(8, 8), codebook_size=512,
                                    num_classes=10).eval()
        for param in cpu_net.parameters():
            param.normal_(0.0, 0.2)
        dev_net = copy.deepcopy(cpu_net).to(dev)
        labels = torch.arange(batch) % 10
        tokens = torch.randint(0, 512, (batch, 8, 8), generator=torch.Generator().manual_seed(1))
        rows = [dict(case='agreement', variant='logits', device=device,
                     max_abs_diff=float((cpu_net(tokens, labels) - dev_net(
                         tokens.to(dev), labels.to(dev)).cpu()).abs().max()))]
        variants = [('greedy', GREEDY, torch.float32), ('sampled', {}, torch.float32)]
        if dev.type == 'cuda':
            variants.append(('greedy_bf16', GREEDY, torch.bfloat16))
        for name in presets:
            for variant, overrides, dtype in variants:
                extra = {k: v for k, v in overrides.items()
                         if k != 'confidence_noise' or name.startswith('maskgit')}
                ref = _sample(name, cpu_net, labels, steps, seed, **extra)
                out = _sample(name, dev_net, labels.to(dev), steps, seed, dtype, **extra).cpu()
                rows.append(dict(case='agreement', sampler=name, variant=variant, device=device,
                                 identical=bool(torch.equal(ref, out)),
                                 agreement=round(float((ref == out).float().mean()), 4),
                                 steps=steps, batch=batch))
        return rows
    finally:
        torch.backends.cuda.matmul.allow_tf32 = matmul_tf32

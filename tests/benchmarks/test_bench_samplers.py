"""Sampler steps on CPU: every sampler at equal steps on one small model.

Each benchmark runs one ``STEPS``-step sampling call; ``extra_info['steps']``
turns its time into a per-step cost. The ``sampler`` group compares the fixing
sampler's cost with plain Halton's (target: within 5%).
"""
import pytest
import torch

from bigfix_mm.models.editors.bigfix.sampler import SAMPLER_PRESETS, build_sampler
from bigfix_mm.models.editors.bigfix.transformer import BidirectionalTransformer

STEPS, BATCH = 8, 8


@pytest.fixture(scope='module')
def transformer():
    torch.manual_seed(0)
    model = BidirectionalTransformer(512, grid=(8, 8), num_classes=10, size=None, width=64,
                                     depth=2, heads=2).eval()
    for p in model.parameters():
        torch.nn.init.normal_(p, std=0.1)
    return model


@pytest.mark.parametrize('name', ['maskgit', 'halton', 'fix_all', 'fix_low'])
def test_bench_sampler_steps(benchmark, name, transformer):
    assert name in SAMPLER_PRESETS
    sampler = build_sampler(name, steps=STEPS, cfg_scale=1.5)
    labels = torch.arange(BATCH) % 10
    gen = torch.Generator().manual_seed(0)
    benchmark.group = 'sampler'
    benchmark.extra_info.update(steps=STEPS, batch=BATCH, forward_batch=2 * BATCH)

    ids = benchmark(lambda: sampler(transformer, labels, generator=gen))
    assert ids.shape == (BATCH, 1, 8, 8) and int(ids.max()) < 512

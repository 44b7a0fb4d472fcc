"""Random-token injection: per sample in the loader, and batched as on the device."""
import torch

from bigfix_mm.core.injection import TokenInjector
from bigfix_mm.registry import TRANSFORMS

K, GRID = 16384, (16, 16)  # the ImageNet-256 token shape


def test_bench_injection_transform_per_sample(benchmark):
    transform = TRANSFORMS.build(dict(type='RandomTokenInjection', codebook_size=K))
    tokens = torch.randint(0, K, (1, *GRID), generator=torch.Generator().manual_seed(0))

    out = benchmark(lambda: transform(dict(tokens=tokens)))
    assert out['input_ids'].shape == (1, *GRID)
    assert (out['masked'] | out['injected'] | (out['input_ids'] == tokens)).all()


def test_bench_injector_batched(benchmark):
    injector = TokenInjector(K, injection_prob=0.2, mode='shuffle')
    tokens = torch.randint(0, K, (64, GRID[0] * GRID[1]),
                           generator=torch.Generator().manual_seed(0))
    gen = torch.Generator().manual_seed(0)

    out = benchmark(lambda: injector(tokens, grid=GRID, generator=gen, validate=False))
    assert out.input_ids.shape == (64, 256) and not (out.masked & out.injected).any()

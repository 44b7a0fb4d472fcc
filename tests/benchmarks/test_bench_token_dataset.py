"""TokenDataset: one batch of memory-mapped items through the training pipeline."""
import numpy as np
import pytest

from bigfix_mm.datasets.token_dataset import write_token_meta
from bigfix_mm.registry import DATASETS

K, GRID, N, BATCH = 16384, (16, 16), 512, 32


@pytest.fixture(scope='module')
def dataset(tmp_path_factory):
    root = tmp_path_factory.mktemp('tokens')
    rng = np.random.default_rng(0)
    np.save(root / 'tokens.npy', rng.integers(0, K, (N, *GRID)).astype(np.uint16))
    np.save(root / 'labels.npy', rng.integers(0, 1000, N))
    write_token_meta(root, codebook_size=K, grid=list(GRID), num_classes=1000, tokenizer='bench',
                     num_samples=N)
    return DATASETS.build(dict(
        type='TokenDataset', data_root=str(root), codebook_size=K, grid=GRID, num_classes=1000,
        pipeline=[dict(type='RandomTokenInjection', codebook_size=K),
                  dict(type='PackTokenInputs')]))


def test_bench_token_dataset_batch(benchmark, dataset):
    indices = np.random.default_rng(1).integers(0, N, BATCH).tolist()
    benchmark.extra_info.update(items=BATCH)

    items = benchmark(lambda: [dataset[i] for i in indices])
    assert len(items) == BATCH and items[0]['inputs']['input_ids'].shape == (1, *GRID)

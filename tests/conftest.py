import os
from pathlib import Path

import pytest
import torch

os.environ.setdefault('NO_ALBUMENTATIONS_UPDATE', '1')
# OMP_NUM_THREADS, when set, wins: on a loaded machine 2 spinning threads make small ops ~15x slower
torch.set_num_threads(int(os.environ.get('OMP_NUM_THREADS') or min(2, os.cpu_count() or 1)))

import bigfix_mm  # noqa: E402,F401  (registers everything)
from mmengine.registry import DefaultScope  # noqa: E402
from bigfix_mm.datasets.cifar10 import locate_cifar10  # noqa: E402
from bigfix_mm.errors import DataNotFoundError  # noqa: E402

if DefaultScope.get_current_instance() is None:
    DefaultScope.get_instance('bigfix_mm_tests', scope_name='mmagic')

REPO = Path(__file__).resolve().parents[1]


def pytest_configure(config):
    config.addinivalue_line('markers', 'slow: long-running test (deselect with -m "not slow")')


@pytest.fixture
def tiny_transformer_cfg():
    """A transformer small enough for millisecond CPU tests."""
    return dict(type='BidirectionalTransformer', size=None, width=32, depth=2, heads=2,
                codebook_size=16, grid=(4, 4), num_classes=3)


def _cifar_found() -> bool:
    """CIFAR-10 (either layout) in data/cifar10 or the shared folder, without downloading."""
    try:
        return all(locate_cifar10(None, split) for split in ('train', 'test'))
    except DataNotFoundError:
        return False


requires_cifar = pytest.mark.skipif(not _cifar_found(), reason='CIFAR-10 not found locally')


@pytest.fixture
def tiny_vq_arch():
    """VQAutoencoder kwargs of a VQGAN small enough for sub-second CPU tests (f2, K=64)."""
    return dict(ch=32, ch_mult=(1, 2), num_res_blocks=1, z_channels=32, codebook_size=64,
                code_dim=4, l2_norm=True, norm_groups=8)


def assert_codes_like(tokenizer, autoencoder) -> None:
    """``tokenizer`` (images in [0, 1]) encodes and decodes exactly like ``autoencoder``
    (images in [-1, 1]) on a random (2, 3, 16, 16) batch."""
    x = torch.rand(2, 3, 16, 16)
    with torch.no_grad():
        _, ids, _ = autoencoder.encode(x * 2 - 1)
        expected = ((autoencoder.decode_ids(ids) + 1) / 2).clamp(0, 1)
    assert torch.equal(tokenizer.encode(x), ids)
    assert torch.allclose(tokenizer.decode(ids), expected, atol=1e-6)

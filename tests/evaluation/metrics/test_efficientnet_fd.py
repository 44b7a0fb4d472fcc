"""EfficientNetFrechetDistance on real CIFAR-10 images, called directly.

Its run inside MMagic's loops: tests/evaluation/test_generative_evaluation.py.
"""
import pytest
import torch
from mmengine.dataset import pseudo_collate
from torch.utils.data import DataLoader

from bigfix_mm.registry import DATASETS, METRICS, MODELS
from tests.conftest import requires_cifar


class _Module(torch.nn.Module):
    """What MMagic's evaluator hands to ``prepare``: a model with a data preprocessor."""

    def __init__(self):
        super().__init__()
        self.data_preprocessor = MODELS.build(dict(type='TokenDataPreprocessor'))


def real_loader(start: int, num: int) -> DataLoader:
    dataset = DATASETS.build(dict(type='CIFAR10JPEG', split='test',
                                  indices=list(range(start, start + num)),
                                  pipeline=[dict(type='PackTokenInputs', keys=(), gt_img=True)]))
    return DataLoader(dataset, batch_size=8, collate_fn=pseudo_collate)


def as_outputs(images_bgr: torch.Tensor) -> list:
    """Model outputs as MMagic's Evaluator passes them to ``process`` (dicts)."""
    return [dict(fake_img=img, sample_model='orig') for img in images_bgr]


def real_images(loader: DataLoader) -> torch.Tensor:
    module = _Module()
    return torch.cat([module.data_preprocessor(b, False)['data_samples'].gt_img for b in loader])


def fd_of(metric, images_bgr: torch.Tensor) -> float:
    for chunk in images_bgr.split(8):
        metric.process({}, as_outputs(chunk))
    return metric.evaluate()['FD-EffNetLite0/fd']


@requires_cifar
def test_identical_sets_zero_shifted_sets_larger_and_cache(tmp_path, monkeypatch):
    loader = real_loader(0, 8)
    stats = str(tmp_path / 'real.npz')
    cfg = dict(type='EfficientNetFrechetDistance', fake_nums=8, image_size=64, real_stats=stats)
    metric = METRICS.build(cfg)
    metric.prepare(_Module(), loader)
    real = real_images(loader)  # (8, 3, 32, 32) BGR
    same = fd_of(metric, real)
    brighter = fd_of(metric, (real + 80).clamp(max=255))
    other = fd_of(metric, real_images(real_loader(9000, 8)))  # another class (trucks)
    print(f'FD same {same:.4g}, brighter {brighter:.4g}, other class {other:.4g}')
    assert abs(same) < 0.01  # eigenvalue round-off of rank-8 covariances in 1280-d
    assert brighter > 100 * 0.01 and other > 100 * 0.01

    # The statistics are cached: a second metric does not look at the images again.
    import bigfix_mm.evaluation.metrics.efficientnet_fd as mod
    monkeypatch.setattr(mod, 'extract_real_features', lambda *a, **k: pytest.fail('recomputed'))
    again = METRICS.build(cfg)
    again.prepare(_Module(), loader)
    assert fd_of(again, real) == pytest.approx(same, abs=1e-6)
    # ... and a cache made for other settings is refused with the option named.
    other_size = METRICS.build(dict(cfg, image_size=32))
    with pytest.raises(ValueError, match='real_stats=.*image_size'):
        other_size.prepare(_Module(), loader)


def test_fake_nums_must_be_an_int():
    with pytest.raises(ValueError, match='fake_nums=10000.0'):
        METRICS.build(dict(type='EfficientNetFrechetDistance', fake_nums=1e4))

"""Every bigfix_mm component builds from a config dict through MMagic's registries."""
import pytest
import torch

from bigfix_mm.registry import DATASETS, HOOKS, METRICS, MODELS, TRANSFORMS

from .conftest import requires_cifar

TRANSFORMER = dict(type='BidirectionalTransformer', size=None, width=32, depth=1, heads=2,
                   codebook_size=8, grid=(2, 2), num_classes=2)

CASES = [
    (MODELS, TRANSFORMER, 'BidirectionalTransformer'),
    (MODELS, dict(type='BIGFix', transformer=TRANSFORMER,
                  tokenizer=dict(type='RGBQuantTokenizer', levels=2, downsample=2)), 'BIGFix'),
    (MODELS, dict(type='RGBQuantTokenizer', levels=4, downsample=2), 'RGBQuantTokenizer'),
    (MODELS, dict(type='TokenDataPreprocessor'), 'TokenDataPreprocessor'),
    (MODELS, dict(type='MaskGITSampler', steps=4), 'MaskGITSampler'),
    (MODELS, dict(type='HaltonSampler', steps=4), 'HaltonSampler'),
    (MODELS, dict(type='TokenFixingSampler', steps=4, fix='all'), 'TokenFixingSampler'),
    (TRANSFORMS, dict(type='RandomTokenInjection', codebook_size=8), 'RandomTokenInjection'),
    (TRANSFORMS, dict(type='TokenizeImage', tokenizer=dict(type='RGBQuantTokenizer')),
     'TokenizeImage'),
    (TRANSFORMS, dict(type='PackTokenInputs'), 'PackTokenInputs'),
    (HOOKS, dict(type='FixingSamplerHook', interval=10), 'FixingSamplerHook'),
    (METRICS, dict(type='TokenPredictionMetric'), 'TokenPredictionMetric'),
    (METRICS, dict(type='EfficientNetFrechetDistance', fake_nums=2), 'EfficientNetFrechetDistance'),
]


@pytest.mark.parametrize('registry,cfg,name', CASES, ids=[c[2] for c in CASES])
def test_builds_from_config(registry, cfg, name):
    obj = registry.build(cfg)
    assert type(obj).__name__ == name


@requires_cifar
def test_dataset_builds_from_config():
    ds = DATASETS.build(dict(type='CIFAR10JPEG', split='test', indices=4, pipeline=[
        dict(type='TokenizeImage', tokenizer=dict(type='RGBQuantTokenizer', levels=6, downsample=4)),
        dict(type='RandomTokenInjection', codebook_size=216, seed=0),
        dict(type='PackTokenInputs'),
    ]))
    inputs = ds[0]['inputs']
    assert inputs['input_ids'].shape == (1, 8, 8) and inputs['labels'].dtype == torch.int64

"""Config validation: every mismatch is found before any work and names fields + fix."""
import json

import numpy as np
import pytest
from mmengine.config import Config

from bigfix_mm.engine.config_checks import (ConfigError, check_config, collect_problems,
                                            prepare_config, resolve_config)
from bigfix_mm.registry import DATASETS
from bigfix_mm.engine.launch import build_runner

from tests.conftest import REPO

QUICK = REPO / 'configs' / 'bigfix' / 'bigfix_cifar10_quick.py'
TOKENS = REPO / 'configs' / 'bigfix' / 'bigfix_imagenet256.py'


def quick() -> Config:
    return resolve_config(Config.fromfile(str(QUICK)))


def only(problems, *needles):
    hits = [p for p in problems if all(n in p for n in needles)]
    assert hits, problems
    return hits[0]


SHIPPED = sorted((REPO / 'configs').glob('*.py')) + sorted((REPO / 'configs').glob('bigfix/*.py')) \
    + sorted((REPO / 'configs').glob('vqgan/*.py'))


@pytest.mark.parametrize('path', SHIPPED, ids=lambda p: str(p.relative_to(REPO / 'configs')))
def test_shipped_configs_pass(path):
    cfg = Config.fromfile(str(path))
    assert collect_problems(prepare_config(cfg)) == []
    assert collect_problems(prepare_config(cfg)) == []  # a resolved config resolves again


def test_data_side_reads_the_model_facts():
    cfg = Config.fromfile(str(QUICK))
    cfg.merge_from_dict({'model.tokenizer.levels': 4, 'model.injection.injection_prob': 0.0,
                         'model.injection.mode': 'uniform'})
    resolve_config(cfg)
    assert cfg.model.transformer.codebook_size == 64  # the tokenizer owns it
    for split in ('train_dataloader', 'val_dataloader'):
        tokenize, inject = cfg[split].dataset.pipeline[-3:-1]
        assert tokenize.tokenizer == cfg.model.tokenizer
        assert (inject.codebook_size, inject.injection_prob, inject.mode) == (64, 0.0, 'uniform')
    cfg.merge_from_dict({'model.injection.injection_prob': 0.3})  # after a dump and reload
    assert resolve_config(cfg).val_dataloader.dataset.pipeline[-2].injection_prob == 0.3


def test_a_pipeline_shared_by_two_loaders_is_filled_once():
    """`test_dataloader = val_dataloader` in a config can leave both loaders holding the
    same transform dicts; filling them for one loader is not a second statement."""
    cfg = Config.fromfile(str(QUICK))
    cfg.test_dataloader.dataset.pipeline = cfg.val_dataloader.dataset.pipeline
    resolve_config(cfg)
    assert cfg.test_dataloader.dataset.pipeline[-2].injection_prob == 0.2


@pytest.mark.parametrize('where, value, needle', [
    ('train_dataloader.dataset.pipeline.2.injection_prob', 0.5, 'injection is set in two places'),
    ('val_dataloader.dataset.pipeline.1.codebook_size', 216, 'injection is set in two places'),
    ('train_dataloader.dataset.pipeline.1.tokenizer', dict(type='RGBQuantTokenizer'),
     'tokenizer is set in two places'),
    ('model.transformer.codebook_size', 216, 'codebook size is set in two places'),
])
def test_a_fact_stated_twice_is_rejected(where, value, needle):
    cfg = Config.fromfile(str(QUICK))
    cfg.merge_from_dict({where: value})
    with pytest.raises(ConfigError, match=needle) as err:
        resolve_config(cfg)
    assert where.split('.')[0] in str(err.value)  # the second place is named


def test_token_dataset_reads_the_model_codebook(tmp_path):
    root = tmp_path / 'tokens'
    root.mkdir()
    np.save(root / 'tokens.npy', np.random.randint(0, 512, (6, 16, 16)).astype(np.uint16))
    np.save(root / 'labels.npy', np.arange(6) % 1000)
    (root / 'meta.json').write_text(json.dumps(dict(codebook_size=512, grid=[16, 16],
                                                    num_classes=1000, num_samples=6)))
    cfg = Config.fromfile(str(TOKENS))
    cfg.merge_from_dict({'model.transformer.codebook_size': 512,
                         'train_dataloader.dataset.data_root': str(root)})
    prepare_config(cfg)
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    assert dataset.expected['codebook_size'] == 512
    assert dataset[0]['inputs']['input_ids'].max() <= 512  # K = the mask id


def test_image_size_not_accepted_by_tokenizer():
    cfg = Config.fromfile(str(QUICK))
    cfg.model.tokenizer.downsample = 5  # 32 px images are not divisible by 5
    msg = only(collect_problems(resolve_config(cfg)), 'train_dataloader.dataset gives 32x32')
    assert 'downsample 5' in msg and 'CenterCropResize' in msg


def test_grid_disagrees_with_tokenizer_output():
    cfg = quick()
    cfg.model.transformer.grid = (16, 16)
    msg = only(collect_problems(cfg), '8x8 tokens', 'model.transformer.grid=[16, 16]')
    assert 'model.tokenizer' in msg
    assert "(H, W) to (8, 8)" in msg


def test_class_count_mismatch():
    cfg = quick()
    cfg.model.transformer.num_classes = 1000
    msg = only(collect_problems(cfg), 'CIFAR10JPEG', '10 classes')
    assert 'model.transformer.num_classes=10' in msg


@pytest.mark.parametrize('steps', [0, 65, 2.5])
def test_sampler_steps_out_of_range(steps):
    cfg = quick()  # 8x8 grid: 64 tokens
    cfg.model.sampler.steps = steps
    msg = only(collect_problems(cfg), 'model.sampler.steps')
    assert '[1, 64]' in msg


def test_default_samplers_are_checked_with_their_class_defaults():
    """A hook or model without sampler configs samples with the defaults of
    FixingSamplerHook / BIGFix (8 steps for the hook): too many for a 2x2 grid."""
    cfg = quick()
    cfg.model.transformer.grid = (2, 2)
    cfg.model.pop('sampler')
    cfg.model.tokenizer.downsample = 16  # 32 px -> 2x2 tokens
    cfg.custom_hooks = [dict(type='FixingSamplerHook')]
    problems = collect_problems(cfg)
    only(problems, 'model.sampler.steps=32', '[1, 4]')  # TokenFixingSampler's default
    only(problems, 'custom_hooks[0].sampler.steps=8')
    only(problems, 'custom_hooks[0].baseline.steps=8')


def test_native_image_size_of_the_dataset_class():
    cfg = quick()
    cfg.train_dataloader.dataset = dict(type='FashionMNIST', pipeline=[
        dict(type='TokenizeImage'), dict(type='RandomTokenInjection'),
        dict(type='PackTokenInputs')])
    only(collect_problems(resolve_config(cfg)), 'train_dataloader.dataset gives 28x28 images '
         '-> 7x7 tokens', 'grid=[8, 8]')
    cfg.train_dataloader.dataset.pipeline.insert(0, dict(type='CenterCropResize'))
    only(collect_problems(cfg), 'train_dataloader.dataset gives 256x256', '64x64 tokens')


def test_hook_and_metric_sampler_steps():
    cfg = quick()
    cfg.custom_hooks[0].baseline.steps = 500
    cfg.val_evaluator = [dict(type='TokenPredictionMetric'),
                         dict(type='FID', sample_kwargs=dict(steps=0))]
    problems = collect_problems(cfg)
    only(problems, 'custom_hooks[0].baseline.steps=500')
    only(problems, 'val_evaluator metric 1 sample_kwargs.steps=0')


def test_token_metadata_disagrees_with_model(tmp_path):
    root = tmp_path / 'tokens'
    root.mkdir()
    np.save(root / 'tokens.npy', np.zeros((2, 16, 16), np.uint16))
    np.save(root / 'labels.npy', np.zeros(2, np.int64))
    (root / 'meta.json').write_text(json.dumps(dict(codebook_size=1024, grid=[16, 16],
                                                    num_classes=1000, tokenizer='taming')))
    cfg = Config.fromfile(str(TOKENS))
    cfg.train_dataloader.dataset.data_root = str(root)
    prepare_config(cfg)
    with pytest.raises(ValueError, match='meta.json says codebook_size=1024') as err:
        DATASETS.build(cfg.train_dataloader.dataset)
    assert 'model.transformer.codebook_size' in str(err.value)


def test_video_frames_disagree_with_grid():
    cfg = resolve_config(Config.fromfile(str(REPO / 'configs' / 'bigfix' / 'bigfix_synthetic_video.py')))
    cfg.train_dataloader.dataset.num_frames = 4
    only(collect_problems(cfg), 'train_dataloader.dataset.num_frames=4', 'T=8')


def test_tools_stop_before_building_anything(tmp_path):
    cfg = quick()
    cfg.work_dir = str(tmp_path / 'work')
    cfg.model.sampler.steps = 0
    cfg.model.transformer.num_classes = 7
    with pytest.raises(ConfigError, match=r'config problem\(s\)') as err:
        build_runner(cfg)
    assert 'model.sampler.steps=0' in str(err.value) and 'num_classes=10' in str(err.value)
    assert not (tmp_path / 'work').exists()  # no runner, no work dir, no data loaded
    check_config(quick())  # a consistent config passes silently


def test_a_config_naming_the_former_fix_acc_fails_with_the_new_name():
    """An older work dir's config that tracks ``token/fix_acc`` (e.g. the checkpoint hook's
    ``save_best``) stops before anything is built, naming ``token/injected_acc``."""
    cfg = resolve_config(Config.fromfile(str(QUICK)))
    cfg.default_hooks.checkpoint.save_best = 'token/fix_acc'
    with pytest.raises(ConfigError, match=r"save_best='token/fix_acc'.*'injected_acc'.*"
                       r"write 'token/injected_acc'"):
        check_config(cfg)
    cfg.default_hooks.checkpoint.save_best = 'token/injected_acc'
    check_config(cfg)

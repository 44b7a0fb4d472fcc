"""Config validation: every mismatch is found before any work and names fields + fix."""
import json

import pytest
from mmengine.config import Config

from bigfix_mm.engine.config_checks import (ConfigError, check_config, collect_problems,
                                            tokenizer_facts)
from bigfix_mm.engine.launch import build_runner

from ..conftest import REPO

QUICK = REPO / 'configs' / 'bigfix_cifar10_quick.py'
TOKENS = REPO / 'configs' / 'bigfix_imagenet256.py'


def quick() -> Config:
    return Config.fromfile(str(QUICK))


def only(problems, *needles):
    hits = [p for p in problems if all(n in p for n in needles)]
    assert hits, problems
    return hits[0]


@pytest.mark.parametrize('path', sorted((REPO / 'configs').glob('*.py')), ids=lambda p: p.name)
def test_shipped_configs_pass(path):
    assert collect_problems(Config.fromfile(str(path))) == []


def test_tokenizer_codebook_mismatch():
    cfg = quick()
    cfg.model.tokenizer.levels = 4  # 64 codes, transformer still 216
    msg = only(collect_problems(cfg), 'model.tokenizer', '64 codes')
    assert 'model.transformer.codebook_size=216' in msg and 'codebook_size=64' in msg


def test_injection_codebook_mismatch():
    cfg = quick()
    cfg.train_dataloader.dataset.pipeline[2].codebook_size = 100
    msg = only(collect_problems(cfg), 'RandomTokenInjection', 'codebook_size=100')
    assert 'train_dataloader.dataset.pipeline[2]' in msg


def test_image_size_not_accepted_by_tokenizer():
    cfg = quick()
    for t in cfg.train_dataloader.dataset.pipeline:
        if t.type == 'TokenizeImage':
            t.tokenizer.downsample = 5  # 32 px images are not divisible by 5
    msg = only(collect_problems(cfg), 'train_dataloader.dataset gives 32x32 images')
    assert 'downsample 5' in msg and 'CenterCropResize' in msg


def test_grid_disagrees_with_tokenizer_output():
    cfg = quick()
    cfg.model.transformer.grid = (16, 16)
    msg = only(collect_problems(cfg), '8x8 tokens', 'model.transformer.grid=[16, 16]')
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
    (root / 'meta.json').write_text(json.dumps(dict(codebook_size=1024, grid=[16, 16],
                                                    num_classes=1000, tokenizer='taming')))
    cfg = Config.fromfile(str(TOKENS))
    cfg.train_dataloader.dataset.data_root = str(root)
    msg = only(collect_problems(cfg), 'meta.json says codebook_size=1024')
    assert 'model.transformer.codebook_size' in msg and 're-extract' in msg


def test_token_dataset_fields_disagree_with_model():
    cfg = Config.fromfile(str(TOKENS))
    cfg.train_dataloader.dataset.grid = (32, 32)
    cfg.val_dataloader.dataset.num_classes = 10
    problems = collect_problems(cfg)
    only(problems, 'train_dataloader.dataset.grid=[32, 32]', 'model.transformer.grid=[1, 16, 16]')
    only(problems, 'val_dataloader.dataset.num_classes=10')


def test_video_frames_disagree_with_grid():
    cfg = Config.fromfile(str(REPO / 'configs' / 'bigfix_synthetic_video.py'))
    cfg.train_dataloader.dataset.num_frames = 4
    only(collect_problems(cfg), 'train_dataloader.dataset.num_frames=4', 'T=8')


def test_tokenizer_facts():
    assert tokenizer_facts(dict(type='RGBQuantTokenizer', levels=6, downsample=4))[:2] == (216, 4)
    assert tokenizer_facts(dict(type='PerFrameTokenizer', tokenizer=dict(
        type='RGBQuantTokenizer', levels=4)))[:2] == (64, 4)
    assert tokenizer_facts(dict(type='VQGANTokenizer', arch='llamagen-vq16'))[:2] == (16384, 16)
    assert tokenizer_facts(dict(type='DiffusersVQTokenizer', vqmodel=dict())) is None


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

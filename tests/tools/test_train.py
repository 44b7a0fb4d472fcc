"""Real MMEngine Runner runs of the synthetic-shapes config (and, once, CIFAR-10's quick
config), shrunk to seconds."""
import json
import sys
from pathlib import Path

import pytest
from mmengine.config import Config
from mmengine.runner import Runner

from tests.conftest import CIFAR_QUICK as QUICK
from tests.conftest import REPO, requires_cifar, small_cfg, small_cifar_cfg


def test_config_inheritance_and_overrides():
    cfg = Config.fromfile(str(QUICK))
    assert cfg.default_scope == 'mmagic'
    assert cfg.model.type == 'BIGFix'
    assert cfg.model.transformer.size == 'tiny'  # from _base_/models
    assert cfg.model.tokenizer.levels == 6  # the quick config's: 216 codes
    assert cfg.optim_wrapper.optimizer.weight_decay == 0.03  # from _base_/schedules
    assert cfg.optim_wrapper.optimizer.lr == 1e-3
    big = Config.fromfile(str(REPO / 'configs' / 'bigfix' / 'bigfix_imagenet256.py'))
    assert big.model.transformer.size == 'large'
    assert big.optim_wrapper.type == 'AmpOptimWrapper' and big.optim_wrapper.dtype == 'bfloat16'
    assert big.param_scheduler[0].end == 2500
    assert big.train_dataloader.batch_size * 8 == 256


@pytest.mark.parametrize('shrunk', [small_cfg, pytest.param(small_cifar_cfg, marks=requires_cifar)],
                         ids=['synthetic', 'cifar10'])
def test_runner_trains_validates_checkpoints_and_resumes(tmp_path, shrunk):
    runner = Runner.from_cfg(shrunk(tmp_path))
    runner.train()
    assert (tmp_path / 'iter_4.pth').is_file()
    assert (tmp_path / 'last_checkpoint').read_text().strip().endswith('iter_4.pth')
    scalars = [json.loads(line) for line in next(tmp_path.glob('*/vis_data/scalars.json')).open()]
    assert any('token/injected_acc' in s for s in scalars)  # validation ran
    assert any('loss' in s and 'masked_acc' in s for s in scalars)
    # the FixingSamplerHook's statistics are logged with the validation metrics
    val = [s for s in scalars if 'token/injected_acc' in s]
    assert all('fixing/changed_per_step' in s and 'fixing/fixed_share' in s for s in val)

    cfg = shrunk(tmp_path, max_iters=6)
    cfg.resume = True
    resumed = Runner.from_cfg(cfg)
    resumed.train()
    assert resumed.iter == 6
    assert (tmp_path / 'iter_6.pth').is_file()


def test_validation_longer_than_the_logging_window(tmp_path):
    """A validation of more batches than the log processor's window (50) runs and logs
    (MMagic's IterTimerHook needs MMagic's own loops there and fails on MMEngine's ValLoop)."""
    cfg = small_cfg(tmp_path, max_iters=1)
    cfg.train_cfg.val_interval = 1
    cfg.custom_hooks = []
    cfg.val_dataloader.batch_size = 1
    cfg.val_dataloader.dataset.indices = 52
    runner = Runner.from_cfg(cfg)
    runner.train()
    scalars = [json.loads(line) for line in next(tmp_path.glob('*/vis_data/scalars.json')).open()]
    assert any('token/injected_acc' in s for s in scalars)


@pytest.mark.slow  # a real tool process, over 10 s
def test_quick_config_trains_from_an_official_release_in_data_cifar10(tmp_path):
    """A clone without ../shared: BIGFIX_SHARED is empty, data/cifar10 (under the working
    directory) holds the python release; tools/train.py trains the quick config."""
    from tests.tools.test_dist_train import run_tool, subprocess_env
    from tests.datasets.cifar_release import write_fake_release
    (tmp_path / 'empty').mkdir()
    md5s = write_fake_release(tmp_path / 'data' / 'cifar10', per_batch=8)
    (tmp_path / 'md5.json').write_text(json.dumps(md5s))
    env = dict(subprocess_env(), BIGFIX_SHARED=str(tmp_path / 'empty'))
    tiny = ['model.transformer.size=None', 'model.transformer.width=32',
            'model.transformer.depth=1', 'model.transformer.heads=2', 'train_cfg.max_iters=3',
            'train_cfg.val_interval=3', 'train_dataloader.batch_size=4',
            'train_dataloader.num_workers=0', 'train_dataloader.persistent_workers=False',
            'val_dataloader.num_workers=0', 'val_dataloader.persistent_workers=False',
            'default_hooks.logger.interval=1']
    # the fake release's MD5s stand in for the official ones (torchvision's list) in the child
    cmd = [sys.executable, '-m', 'tests.datasets.cifar_release', str(tmp_path / 'md5.json'),
           str(REPO / 'tools' / 'train.py'), str(QUICK), '--work-dir', 'work',
           '--cfg-options', *tiny]
    proc = run_tool(cmd, env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert (tmp_path / 'work' / 'iter_3.pth').is_file()
    scalars = [json.loads(line) for line in
               next((tmp_path / 'work').glob('*/vis_data/scalars.json')).open()]
    assert [s['step'] for s in scalars if 'loss' in s] == [1, 2, 3]
    assert not (tmp_path / 'data' / 'cifar10' / 'cifar-10-python.tar.gz').exists()  # no download


def test_tensorboard_is_one_vis_backends_entry(tmp_path):
    text = (REPO / 'configs' / '_base_' / 'default_runtime.py').read_text()
    assert "    # dict(type='TensorboardVisBackend'),\n" in text  # the documented switch
    cfg = small_cfg(tmp_path, max_iters=2)
    cfg.visualizer.vis_backends = [dict(type='LocalVisBackend'),
                                   dict(type='TensorboardVisBackend')]
    Runner.from_cfg(cfg).train()
    assert list(tmp_path.glob('*/vis_data/events.out.tfevents.*'))

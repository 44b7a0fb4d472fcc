"""The tokenizer chain through MMEngine's Runner, shrunk to seconds:
configs/vqgan/vqgan_cifar10.py (train) -> tools/extract_tokens.py -> configs/bigfix/bigfix_cifar10.py."""
import json

import numpy as np
import pytest
from mmengine.config import Config

from bigfix_mm.engine.config_checks import resolve_config
from bigfix_mm.engine.launch import build_runner
from mmengine.runner import Runner

from bigfix_mm.registry import MODELS
from tests.conftest import REPO, load_tool, requires_cifar

et = load_tool('extract_tokens')

VQ_CFG = REPO / 'configs' / 'vqgan' / 'vqgan_cifar10.py'
BIGFIX_CFG = REPO / 'configs' / 'bigfix' / 'bigfix_cifar10.py'
SMALL_VQ = dict(ch=16, z_channels=16, codebook_size=64, usage_history=512)


def small_vq_cfg(path, work_dir, max_iters=4):
    cfg = Config.fromfile(str(path))
    cfg.work_dir = str(work_dir)
    cfg.model.autoencoder.update(SMALL_VQ)
    cfg.tokenizer.update(SMALL_VQ)
    cfg.train_cfg.update(max_iters=max_iters, val_interval=max_iters)
    cfg.train_dataloader.update(batch_size=4, num_workers=0, persistent_workers=False)
    cfg.train_dataloader.dataset.indices = 32
    for key in ('val_dataloader', 'test_dataloader'):
        cfg[key].update(batch_size=8, num_workers=0, persistent_workers=False)
        cfg[key].dataset.indices = 16
    cfg.param_scheduler = []
    cfg.default_hooks.logger.interval = 1
    cfg.default_hooks.checkpoint.interval = max_iters
    cfg.log_level = 'WARNING'
    return cfg


def test_configs_parse_and_agree():
    vq = Config.fromfile(str(VQ_CFG))
    assert vq.model.type == 'VQGANTrainer' and vq.model.autoencoder.arch == 'cifar-f4'
    assert vq.tokenizer.arch == 'cifar-f4' and vq.train_cfg.max_iters == 2000
    adv = Config.fromfile(str(REPO / 'configs' / 'vqgan' / 'vqgan_cifar10_adv.py'))
    assert adv.model.discriminator.type == 'PatchDiscriminator'
    assert set(adv.optim_wrapper) >= {'autoencoder', 'discriminator', 'constructor'}
    big = resolve_config(Config.fromfile(str(BIGFIX_CFG)))  # the tokenizer's 1024 codes
    assert big.model.transformer.codebook_size == big.train_dataloader.dataset.codebook_size == 1024
    assert tuple(big.model.transformer.grid) == tuple(big.train_dataloader.dataset.grid) == (8, 8)
    assert big.model.tokenizer.checkpoint == 'work_dirs/vqgan_cifar10/iter_2000.pth'
    assert big.model.transformer.size == 'tiny' and big.optim_wrapper.optimizer.type == 'AdamW'


def test_bigfix_config_paths_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv('BIGFIX_VQ_CKPT', str(tmp_path / 'vq.pth'))
    monkeypatch.setenv('BIGFIX_CIFAR10_TOKENS', str(tmp_path / 'tokens'))
    cfg = Config.fromfile(str(BIGFIX_CFG))
    assert cfg.model.tokenizer.checkpoint == str(tmp_path / 'vq.pth')
    assert cfg.train_dataloader.dataset.data_root == str(tmp_path / 'tokens' / 'train')
    assert cfg.val_dataloader.dataset.data_root == str(tmp_path / 'tokens' / 'test')
    with pytest.raises(FileNotFoundError, match=r'vq\.pth does not exist.*vqgan_cifar10\.py'):
        MODELS.build(cfg.model)


@requires_cifar
def test_train_extract_and_train_bigfix_on_the_tokens(tmp_path):
    runner = Runner.from_cfg(small_vq_cfg(VQ_CFG, tmp_path / 'vq'))
    runner.train()
    ckpt = tmp_path / 'vq' / 'iter_4.pth'
    assert ckpt.is_file()
    scalars = [json.loads(line) for line in next((tmp_path / 'vq').glob('*/vis_data/scalars.json')).open()]
    assert any('psnr' in s and 'codebook_usage' in s and 'loss_commit' in s for s in scalars)
    val = [s for s in scalars if 'recon/psnr' in s]
    assert val and 5 < val[-1]['recon/psnr'] < 60 and 0 < val[-1]['recon/codebook_usage'] <= 1

    cfg = small_vq_cfg(VQ_CFG, tmp_path / 'vq')
    for split, n in (('train', 12), ('test', 8)):
        tok, ds, desc = et.build_from_config(cfg, split, checkpoint=str(tmp_path / 'vq'), limit=n)
        et.extract(tok, ds, tmp_path / 'tokens' / split, desc, flip=split == 'train',
                   batch_size=4, chunk_size=8, progress=False)
        assert et.verify(tok, ds, tmp_path / 'tokens' / split, num=4)['ok']
    assert np.load(tmp_path / 'tokens' / 'train' / 'tokens.npy').shape == (24, 8, 8)

    big = Config.fromfile(str(BIGFIX_CFG))
    big.work_dir = str(tmp_path / 'bigfix')
    big.model.tokenizer.update(SMALL_VQ, checkpoint=str(ckpt))
    big.model.transformer.update(size=None, width=32, depth=1, heads=2)  # 64 codes: tokenizer
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        split = 'train' if key == 'train_dataloader' else 'test'
        big[key].update(batch_size=4, num_workers=0, persistent_workers=False)
        big[key].dataset.update(data_root=str(tmp_path / 'tokens' / split))
        big[key].dataset.pop('indices', None)
    big.train_cfg.update(max_iters=2, val_interval=2)
    big.param_scheduler = []
    big.custom_hooks = []
    big.default_hooks.checkpoint.interval = 2
    big.log_level = 'WARNING'
    build_runner(big).train()
    assert (tmp_path / 'bigfix' / 'iter_2.pth').is_file()


@requires_cifar
def test_adversarial_config_trains_with_two_optimizers(tmp_path):
    cfg = small_vq_cfg(REPO / 'configs' / 'vqgan' / 'vqgan_cifar10_adv.py', tmp_path, max_iters=2)
    cfg.model.adv_start_iter = 0
    cfg.model.discriminator.base_channels = 8
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    cfg.train_cfg.pop('val_interval')
    runner = Runner.from_cfg(cfg)
    runner.train()
    scalars = [json.loads(line) for line in next(tmp_path.glob('*/vis_data/scalars.json')).open()]
    assert any('loss_disc' in s and 'loss_gen_adv' in s for s in scalars)

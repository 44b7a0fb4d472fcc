"""configs/bigfix/bigfix_cifar10_bits.py and configs/vqgan/vqgan_cifar10_lfq.py build from the registry."""
import pytest
from mmengine.config import Config

from bigfix_mm.engine.config_checks import resolve_config
from bigfix_mm.registry import MODELS

from tests.conftest import REPO


@pytest.mark.parametrize('bits', [10, 16])
def test_bit_configs_build_from_the_registry(bits, monkeypatch):
    monkeypatch.setenv('BIGFIX_LFQ_BITS', str(bits))
    vq = Config.fromfile(str(REPO / 'configs' / 'vqgan' / 'vqgan_cifar10_lfq.py'))
    trainer = MODELS.build(vq.model)
    assert trainer.autoencoder.codebook_size == 2**bits
    assert type(trainer.autoencoder.quantize).__name__ == 'LookupFreeQuantizer'
    assert vq.tokenizer.checkpoint == f'work_dirs/vqgan_cifar10_lfq{bits}/iter_2000.pth'

    cfg = Config.fromfile(str(REPO / 'configs' / 'bigfix' / 'bigfix_cifar10_bits.py'))
    cfg.model.tokenizer.checkpoint = None  # random weights: the file is made by training
    resolve_config(cfg)  # the tokenizer's 2^bits codes reach the datasets and transforms
    model = MODELS.build(cfg.model)
    head = model.transformer.head
    assert type(head).__name__ == 'MaskedBitHead' and head.bits == bits
    assert model.tokenizer.codebook_size == model.codebook_size == 2**bits
    for loader in (cfg.train_dataloader, cfg.val_dataloader):
        assert loader.dataset.codebook_size == 2**bits
    assert cfg.model.tokenizer.checkpoint is None and vq.tokenizer.quantizer.bits == bits

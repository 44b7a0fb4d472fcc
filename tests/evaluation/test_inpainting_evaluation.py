"""The inpainting evaluation config runs through tools/test.py: MMagic's LoadMask /
GetMaskedImage pipeline and MAE / PSNR / SSIM next to the composites' Fréchet distance."""
import json
import sys
from pathlib import Path

import pytest
import torch
from mmengine.config import Config

from bigfix_mm.apis import init_model
from tests.conftest import REPO, load_tool, requires_cifar

CONFIG = REPO / 'configs' / 'bigfix' / 'bigfix_cifar10_quick_inpainting.py'


@pytest.mark.slow  # about a minute on 2 busy cores (a Runner, EfficientNet, CIFAR-10)
@requires_cifar
def test_inpainting_config_runs_through_tools_test(tmp_path, monkeypatch):
    cfg = Config.fromfile(str(CONFIG))
    cfg.model.transformer.update(size=None, width=32, depth=1, heads=2)
    cfg.model.sampler = dict(type='TokenFixingSampler', steps=4, cfg_scale=1.0)
    cfg.model.edit_cfg.update(sampler='fix_low', seam=1)
    for loader in cfg.test_dataloader:
        loader.batch_size = 3
        loader.dataset.indices = 6
    config = tmp_path / 'tiny_inpainting.py'
    cfg.dump(str(config))
    ckpt = tmp_path / 'tiny.pth'
    torch.save(dict(state_dict=init_model(str(config)).state_dict(), meta=dict()), ckpt)
    work = tmp_path / 'work'
    monkeypatch.setattr(sys, 'argv', ['test.py', str(config), str(ckpt), '--work-dir', str(work)])
    load_tool('test').main()
    (log, ) = [p for p in Path(work).glob('*/*.json') if p.stem == p.parent.name]
    metrics = json.loads(log.read_text().splitlines()[-1])
    for prefix in ('box', 'ff'):
        assert 0 < metrics[f'{prefix}/MAE'] < 100  # MAE over the hole, scaled by 100
        assert 0 < metrics[f'{prefix}/PSNR'] < 60 and -1 < metrics[f'{prefix}/SSIM'] < 1
        assert metrics[f'{prefix}/FD-composite/fd'] > 0
    assert metrics['box/MAE'] != metrics['ff/MAE']  # two mask sets, two results

"""MMagic's own inference entry points run a BIGFix checkpoint (no change to MMagic)."""
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from mmengine.config import Config
from mmengine.logging import HistoryBuffer

from bigfix_mm.apis import init_model
from tests.conftest import REPO


@pytest.fixture(scope='module')
def checkpoint(tmp_path_factory):
    """The inpainting config with a tiny transformer, and an MMEngine-format checkpoint of it
    (CIFAR-10's 32x32 images, 8x8 RGB-quantised tokens; no data is read)."""
    root = tmp_path_factory.mktemp('inferencer')
    cfg = Config.fromfile(str(REPO / 'configs' / 'bigfix' / 'bigfix_cifar10_quick_inpainting.py'))
    cfg.model.transformer.update(size=None, width=32, depth=1, heads=2)
    cfg.model.sampler = dict(type='TokenFixingSampler', steps=4, cfg_scale=1.0)
    config = root / 'tiny_inpainting.py'
    cfg.dump(str(config))
    model = init_model(str(config))
    ckpt = root / 'tiny.pth'
    # as a training run saves it: a message hub with HistoryBuffers, which torch >= 2.6 refuses
    # without the allow-list bigfix_mm.engine.checkpoint.install() (tests/conftest.py) adds
    loss = HistoryBuffer()
    loss.update(0.5)
    hub = dict(log_scalars=dict(loss=loss))
    torch.save(dict(state_dict=model.state_dict(), meta=dict(iter=1), message_hub=hub), ckpt)
    return config, ckpt, model


def test_mmagic_apis_imports():
    from mmagic.apis import MMagicInferencer  # noqa: F401  (needs controlnet_aux and timm)


def test_mmagic_inpainting_inferencer_runs_a_bigfix_checkpoint(checkpoint, tmp_path):
    from mmagic.apis.inferencers import Inferencers
    config, ckpt, _ = checkpoint
    img = np.random.default_rng(0).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    mask = np.zeros((32, 32), np.uint8)
    mask[8:24, 8:24] = 255
    Image.fromarray(img).save(tmp_path / 'img.png')
    Image.fromarray(mask).save(tmp_path / 'mask.png')
    inferencer = Inferencers(task='inpainting', config=str(config), ckpt=str(ckpt), device='cpu')
    out_file = tmp_path / 'out' / 'result.png'
    _, result = inferencer(img=str(tmp_path / 'img.png'), mask=str(tmp_path / 'mask.png'),
                           result_out_dir=str(out_file))
    written = np.asarray(Image.open(out_file).convert('RGB'))
    assert written.shape == (32, 32, 3)
    keep = mask == 0  # MMagic's composite: the original pixels outside the hole, as RGB
    assert np.abs(written[keep].astype(int) - img[keep].astype(int)).max() <= 1
    assert np.abs(written[~keep].astype(int) - img[~keep].astype(int)).mean() > 5


def test_mmagic_conditional_inferencer_samples_the_asked_class(checkpoint, tmp_path):
    from mmagic.apis.inferencers import Inferencers
    config, ckpt, model = checkpoint
    inferencer = Inferencers(task='conditional', config=str(config), ckpt=str(ckpt),
                             device='cpu', extra_parameters=dict(num_batches=3))
    out_file = tmp_path / 'grid.png'
    results, images = inferencer(label=2, result_out_dir=str(out_file))
    assert Path(out_file).is_file()
    assert images.shape == (3, 3, 32, 32)
    assert int(results['gt_label']) == 2
    fresh = inferencer.inferencer.model  # MMagic loaded the checkpoint into its own model
    assert all(torch.equal(a, b) for a, b in zip(fresh.state_dict().values(),
                                                 model.state_dict().values()))

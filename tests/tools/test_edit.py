"""tools/edit.py writes its files, and refuses bad input before sampling (exit 2)."""
import numpy as np
import pytest
import torch
from mmengine.config import Config
from PIL import Image

from bigfix_mm.apis import init_model
from tests.conftest import load_tool, small_cfg, tool_exit_status


@pytest.fixture(scope='module')
def tiny(tmp_path_factory):
    """A tiny synthetic-shapes model (32x32 px, 8x8 tokens, 9 classes): config, checkpoint,
    an image and a mask."""
    root = tmp_path_factory.mktemp('edit_tool')
    cfg = small_cfg(root / 'work')
    cfg.model.sampler = dict(type='TokenFixingSampler', steps=4, cfg_scale=1.0)
    config = root / 'tiny.py'
    cfg.dump(str(config))
    ckpt = root / 'tiny.pth'
    torch.save(dict(state_dict=init_model(str(config)).state_dict(), meta=dict()), ckpt)
    img = np.random.default_rng(0).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    Image.fromarray(img).save(root / 'img.png')
    mask = np.zeros((32, 32), np.uint8)
    mask[8:20, 8:20] = 255
    Image.fromarray(mask).save(root / 'mask.png')
    return root, config, ckpt


def argv(tiny, *extra, **files):
    root, config, ckpt = tiny
    return [str(config), str(ckpt), '--img', str(files.get('img', root / 'img.png')),
            '--label', '3', '--out', str(root / 'out'), *extra] + (
        ['--mask', str(files.get('mask', root / 'mask.png'))] if 'nomask' not in files else [])


def test_edit_tool_writes_composite_masked_input_and_the_presets_strip(tiny):
    root = tiny[0]
    assert tool_exit_status('edit', argv(tiny, '--sampler', 'fix_all', '--seam', '1')) == 0
    for name in ('composite.png', 'decoded.png', 'masked.png', 'presets.png'):
        assert (root / 'out' / name).is_file(), name
    img = np.asarray(Image.open(root / 'img.png'))
    out = np.asarray(Image.open(root / 'out' / 'composite.png'))
    held = np.asarray(Image.open(root / 'out' / 'masked.png'))
    far = np.ones((32, 32), bool)
    far[4:24, 4:24] = False  # outside the mask and its one-token seam band
    assert np.array_equal(out[far], img[far])
    assert np.all(held[8:20, 8:20] == 128) and np.array_equal(held[far], img[far])
    strip = np.asarray(Image.open(root / 'out' / 'presets.png'))
    assert strip.shape[1] > 8 * 32 * 4  # input, masked, five presets and the seam run


def test_edit_tool_box_and_outpaint_modes(tiny):
    root = tiny[0]
    assert tool_exit_status('edit', argv(tiny, '--mode', 'box', '0', '0', '16', '32',
                                         nomask=True)) == 0
    img = np.asarray(Image.open(root / 'img.png'))
    out = np.asarray(Image.open(root / 'out' / 'composite.png'))
    assert np.array_equal(out[:, 16:], img[:, 16:])
    assert tool_exit_status('edit', argv(tiny, '--mode', 'outpaint')) == 0
    out = np.asarray(Image.open(root / 'out' / 'composite.png'))
    assert np.array_equal(out[8:20, 8:20], img[8:20, 8:20])  # outpainting keeps the hole


def test_bad_input_is_one_block_naming_the_field_and_exit_2(tiny, capsys, monkeypatch):
    root = tiny[0]
    Image.fromarray(np.zeros((16, 16), np.uint8)).save(root / 'small_mask.png')
    Image.fromarray(np.zeros((32, 32), np.uint8)).save(root / 'black.png')
    Image.fromarray(np.zeros((30, 30, 3), np.uint8)).save(root / 'img30.png')
    Image.fromarray(np.full((30, 30), 255, np.uint8)).save(root / 'mask30.png')
    tool = load_tool('edit')

    def never(*a, **k):
        raise AssertionError('sampled despite bad input')

    monkeypatch.setattr(tool, 'edit', never)
    cases = [
        (argv(tiny, mask=root / 'small_mask.png'), '--mask'),
        (argv(tiny, mask=root / 'black.png'), 'all black'),
        (argv(tiny, img=root / 'img30.png', mask=root / 'mask30.png'), "tokenizer's factor 4"),
        (argv(tiny)[:5] + ['12'] + argv(tiny)[6:], 'label(s) [12] out of range'),
        (argv(tiny, img=root / 'missing.png'), '--img'),
    ]
    for args, message in cases:
        assert tool_exit_status('edit', args) == 2, message
        err = capsys.readouterr().err
        assert message in err and 'Fix:' in err and 'Traceback' not in err


def test_a_checkpoint_without_tokenizer_is_refused(tiny, tmp_path, capsys):
    root, config, _ = tiny
    cfg = Config.fromfile(str(config))
    cfg.model.tokenizer = None
    cfg.model.transformer.codebook_size = 64  # a model trained on pre-extracted tokens
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[key].dataset.pipeline = [dict(type='PackTokenInputs')]
    bare = tmp_path / 'no_tokenizer.py'
    cfg.dump(str(bare))
    ckpt = tmp_path / 'bare.pth'
    torch.save(dict(state_dict=init_model(str(bare)).state_dict(), meta=dict()), ckpt)
    args = [str(bare), str(ckpt)] + argv(tiny)[2:]
    assert tool_exit_status('edit', args) == 2
    assert 'model.tokenizer is None' in capsys.readouterr().err

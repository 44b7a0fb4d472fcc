"""tools/extract_tokens.py: layout, flip, verification, and resuming after a killed run."""
import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch
from mmengine.config import Config
from PIL import Image

from bigfix_mm.core.checkpoint import CheckpointError
from bigfix_mm.models.editors.vqgan import VQAutoencoder
from bigfix_mm.registry import DATASETS
from tests.conftest import REPO, load_tool

et = load_tool('extract_tokens')
from bigfix_mm.datasets.token_extraction import PROGRESS  # noqa: E402

N_IMAGES = 10


@pytest.fixture
def setup(tmp_path, tiny_vq_arch):
    """A class-folder image set (20x24 PNGs), a tiny VQ checkpoint and a config naming both."""
    rng = np.random.default_rng(0)
    for i in range(N_IMAGES):
        folder = tmp_path / 'images' / 'train' / ('cat' if i % 2 else 'ant')
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(rng.integers(0, 256, (20, 24, 3), dtype=np.uint8)).save(folder / f'{i}.png')
    torch.manual_seed(0)
    torch.save(VQAutoencoder(**tiny_vq_arch).state_dict(), tmp_path / 'vq.pth')
    cfg = tmp_path / 'extract_cfg.py'
    cfg.write_text(textwrap.dedent(f"""
        default_scope = 'mmagic'
        tokenizer = dict(type='VQGANTokenizer', checkpoint={str(tmp_path / 'vq.pth')!r},
                         **{tiny_vq_arch!r})
        extract_datasets = dict(train=dict(
            type='ImageNetFolder', data_root={str(tmp_path / 'images')!r}, split='train',
            pipeline=[dict(type='CenterCropResize', size=16)]))
    """))
    return tmp_path, cfg


def _run(cfg_path, out, flip=False, after_chunk=None, **kw):
    tokenizer, dataset, desc = et.build_from_config(Config.fromfile(str(cfg_path)), 'train')
    stats = et.extract(tokenizer, dataset, out, desc, flip=flip, batch_size=2, chunk_size=4,
                       progress=False, after_chunk=after_chunk, **kw)
    return stats, tokenizer, dataset


def test_layout_flip_and_verification(setup, tiny_vq_arch):
    tmp, cfg = setup
    stats, tok, ds = _run(cfg, tmp / 'out', flip=True)
    assert stats['images'] == N_IMAGES
    tokens, labels = np.load(tmp / 'out' / 'tokens.npy'), np.load(tmp / 'out' / 'labels.npy')
    assert tokens.shape == (2 * N_IMAGES, 8, 8) and tokens.dtype == np.uint16
    meta = json.loads((tmp / 'out' / 'meta.json').read_text())
    assert meta['codebook_size'] == 64 and meta['grid'] == [8, 8] and meta['flip']
    assert meta['num_classes'] == 2 and meta['num_samples'] == 2 * N_IMAGES
    assert not (tmp / 'out' / PROGRESS).exists()
    img = torch.from_numpy(ds[3]['img']).permute(2, 0, 1)[None].float() / 255  # (1, 3, 16, 16)
    assert np.array_equal(tokens[6], tok.encode(img)[0].numpy())
    assert np.array_equal(tokens[7], tok.encode(img.flip(-1))[0].numpy())  # row 2i+1: mirror
    assert labels[6] == labels[7] == ds[3]['gt_label']
    check = et.verify(tok, ds, tmp / 'out', num=4)
    assert check['ok'] and check['agreement'] == 1.0 and check['max_abs_diff'] <= 1e-5
    # the TokenDataset reads it when the config agrees, and refuses when it does not
    ds_cfg = dict(type='TokenDataset', data_root=str(tmp / 'out'), codebook_size=64, grid=(8, 8),
                  num_classes=2)
    assert len(DATASETS.build(ds_cfg)) == 2 * N_IMAGES
    for field, wrong in (('codebook_size', 1024), ('grid', (16, 16)), ('num_classes', 10)):
        with pytest.raises(ValueError, match=field):
            DATASETS.build(dict(ds_cfg, **{field: wrong}))


def test_verification_catches_tokens_that_do_not_decode_alike(setup):
    tmp, cfg = setup
    _, tok, ds = _run(cfg, tmp / 'out')
    tokens = np.load(tmp / 'out' / 'tokens.npy', mmap_mode='r+')
    tokens[:] = (tokens + 1) % 64  # another tokenizer's ids
    tokens.flush()
    del tokens
    assert not et.verify(tok, ds, tmp / 'out', num=4)['ok']


@pytest.mark.slow  # a real tool process, over 10 s
def test_killed_run_resumes_to_the_same_file(setup):
    tmp, cfg = setup
    _run(cfg, tmp / 'reference')
    # a real SIGKILL right after chunk 1 of 3 (4 images each) is recorded
    script = textwrap.dedent(f"""
        import os, signal, sys
        sys.path.insert(0, {str(REPO)!r})
        from tests.conftest import load_tool
        et = load_tool('extract_tokens')
        from mmengine.config import Config
        tok, ds, desc = et.build_from_config(Config.fromfile({str(cfg)!r}), 'train')
        kill = lambda c: os.kill(os.getpid(), signal.SIGKILL) if c == 1 else None
        et.extract(tok, ds, {str(tmp / 'out')!r}, desc, batch_size=2, chunk_size=4,
                   progress=False, after_chunk=kill)
    """)
    proc = subprocess.run([sys.executable, '-c', script], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == -9, proc.stderr[-2000:]
    progress = json.loads((tmp / 'out' / PROGRESS).read_text())
    assert progress['done'] == [0, 1] and not (tmp / 'out' / 'meta.json').exists()
    with pytest.raises(FileNotFoundError, match='meta.json'):  # unfinished: not a dataset yet
        DATASETS.build(dict(type='TokenDataset', data_root=str(tmp / 'out'), codebook_size=64))
    tokens = np.load(tmp / 'out' / 'tokens.npy', mmap_mode='r+')
    tokens[8:] = 63  # whatever the unfinished chunk holds is rewritten
    tokens.flush()
    del tokens
    with pytest.raises(FileExistsError, match='other settings'):
        _run(cfg, tmp / 'out', flip=True)  # resuming needs the same arguments
    stats, _, _ = _run(cfg, tmp / 'out')
    assert stats['images'] == N_IMAGES - 8  # finished chunks were not redone
    for name in ('tokens.npy', 'labels.npy'):
        assert (tmp / 'out' / name).read_bytes() == (tmp / 'reference' / name).read_bytes()
    assert _run(cfg, tmp / 'out')[0]['images'] == 0  # complete: nothing to do


def test_cli_and_checkpoint_from_a_work_dir(setup, capsys):
    tmp, cfg = setup
    work = tmp / 'work'
    work.mkdir()
    (work / 'last_checkpoint').write_text(str(tmp / 'vq.pth'))
    assert str(et.resolve_checkpoint(str(work))) == str(tmp / 'vq.pth')
    code = et.main([str(cfg), '--split', 'train', '--out', str(tmp / 'cli'), '--checkpoint',
                    str(work), '--limit', '6', '--batch-size', '4', '--num-workers', '0',
                    '--no-progress', '--verify', '3'])
    assert code == 0
    assert 'verify: 3 rows' in capsys.readouterr().out
    assert np.load(tmp / 'cli' / 'tokens.npy').shape == (6, 8, 8)
    with pytest.raises(KeyError, match="no entry for --split 'val'"):
        et.main([str(cfg), '--split', 'val', '--out', str(tmp / 'x')])
    with pytest.raises(CheckpointError, match='is a directory, not a checkpoint file'):
        et.resolve_checkpoint(str(tmp / 'images'))


def test_32_bit_ids_are_stored_without_overflow(setup):
    tmp, _ = setup
    arch = dict(ch=16, ch_mult=(1, 2), num_res_blocks=1, z_channels=16, norm_groups=8,
                quantizer=dict(type='LookupFreeQuantizer', bits=32))
    torch.manual_seed(0)
    torch.save(VQAutoencoder(**arch).state_dict(), tmp / 'lfq.pth')
    cfg = tmp / 'lfq_cfg.py'
    cfg.write_text(textwrap.dedent(f"""
        default_scope = 'mmagic'
        tokenizer = dict(type='VQGANTokenizer', checkpoint={str(tmp / 'lfq.pth')!r}, **{arch!r})
        extract_datasets = dict(train=dict(
            type='ImageNetFolder', data_root={str(tmp / 'images')!r}, split='train',
            pipeline=[dict(type='CenterCropResize', size=16)]))
    """))
    _, tok, ds = _run(cfg, tmp / 'out32')
    tokens = np.load(tmp / 'out32' / 'tokens.npy')
    assert tok.codebook_size == 2**32 and tokens.dtype == np.uint32
    assert tokens.max() >= 2**31  # ids an int32 file would have wrapped
    check = et.verify(tok, ds, tmp / 'out32', num=N_IMAGES)
    assert check['ok'] and check['agreement'] == 1.0  # stored ids == re-encoded int64 ids
    data = DATASETS.build(dict(type='TokenDataset', data_root=str(tmp / 'out32'),
                               codebook_size=2**32, pipeline=[]))
    item = data[3]['tokens']
    assert item.dtype == torch.int64
    assert torch.equal(item.flatten(), torch.from_numpy(tokens[3].astype(np.int64)).flatten())


def test_checkpoint_from_a_work_dir_with_an_empty_pointer(setup):
    """MMEngine writes ``last_checkpoint`` non-atomically: an empty pointer falls back to
    the newest checkpoint of the work dir that loads (as --resume does)."""
    import shutil
    tmp, _ = setup
    work = tmp / 'work_empty_pointer'
    work.mkdir()
    (work / 'last_checkpoint').write_text('')
    shutil.copy(tmp / 'vq.pth', work / 'iter_2.pth')
    (work / 'iter_4.pth').write_bytes(b'truncated')
    assert str(et.resolve_checkpoint(str(work))) == str(work / 'iter_2.pth')


def test_an_interrupted_extraction_says_how_to_resume(setup, capsys):
    """Ctrl-C during chunk 2 of 3: the tool says so with the command that resumes it,
    and a TokenDataset on the unfinished folder repeats that command."""
    from tests.conftest import tool_exit_status
    tmp, cfg = setup
    interrupted = tmp / 'interrupted_cfg.py'
    interrupted.write_text(cfg.read_text().replace(
        "pipeline=[dict(type='CenterCropResize', size=16)]",
        "pipeline=[dict(type='CenterCropResize', size=16), dict(type='InterruptAtSample', "
        "index=5)]") + "custom_imports = dict(imports=['bigfix_mm', 'tests.tools.probe_hooks'])\n")
    out = tmp / 'out'
    argv = [str(interrupted), '--split', 'train', '--out', str(out), '--chunk-size', '4',
            '--batch-size', '2', '--num-workers', '0', '--no-progress']
    assert tool_exit_status('extract_tokens', argv) == 130
    command = 'python tools/extract_tokens.py ' + ' '.join(argv)
    assert f'extraction into {out} interrupted; the finished chunks are kept. Resume it with ' \
        f'the same command: {command}' in capsys.readouterr().err
    assert json.loads((out / PROGRESS).read_text())['done'] == [0]
    with pytest.raises(FileNotFoundError, match='did not finish') as err:
        DATASETS.build(dict(type='TokenDataset', data_root=str(out), codebook_size=64))
    assert '(1 of 3 chunks done' in str(err.value) and str(err.value).endswith(command)

import os
import subprocess
import sys

import numpy as np
import pytest
import torch
from mmengine.fileio import get_file_backend
from mmengine.logging import HistoryBuffer
from mmengine.runner.checkpoint import CheckpointLoader, save_checkpoint

from bigfix_mm.engine import checkpoint
from bigfix_mm.engine.checkpoint import CheckpointError, load_checkpoint_file

from ..conftest import REPO, load_tool, requires_cifar


def test_mmengine_style_checkpoint_loads_with_weights_only(tmp_path):
    ckpt = dict(state_dict=dict(w=torch.ones(2)),
                meta=dict(epoch=np.int64(3), seed=np.float64(0.5), arr=np.arange(3)),
                message_hub=dict(log_scalars=dict(loss=HistoryBuffer([1.0, 2.0], [1, 1]))))
    path = tmp_path / 'iter_1.pth'
    save_checkpoint(ckpt, str(path))
    loaded = CheckpointLoader.load_checkpoint(str(path), map_location='cpu')
    assert torch.equal(loaded['state_dict']['w'], torch.ones(2))
    assert loaded['meta']['epoch'] == 3
    assert loaded['message_hub']['log_scalars']['loss'].mean() == 1.5


class Evil:

    def __reduce__(self):
        return (exec, ("open('PWNED', 'w').write('x')", ))


def test_untrusted_objects_are_not_executed(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / 'evil.pth'
    torch.save(dict(x=Evil()), path)
    with pytest.raises(CheckpointError, match='evil.pth'):
        load_checkpoint_file(path)
    assert not (tmp_path / 'PWNED').exists()


def test_truncated_checkpoint_error_names_the_file(tmp_path):
    path = tmp_path / 'iter_2.pth'
    torch.save(dict(state_dict=dict(w=torch.zeros(1000))), path)
    path.write_bytes(path.read_bytes()[:300])
    with pytest.raises(CheckpointError, match='iter_2.pth.*truncated or corrupt'):
        CheckpointLoader.load_checkpoint(str(path))
    with pytest.raises(CheckpointError, match='not found'):
        load_checkpoint_file(tmp_path / 'missing.pth')


def test_checkpoint_writes_are_atomic(tmp_path, monkeypatch):
    path = tmp_path / 'latest.pth'
    backend = get_file_backend(str(path))
    backend.put(b'good', str(path))

    def broken_fsync(fd):
        raise OSError('disk full')

    monkeypatch.setattr('os.fsync', broken_fsync)
    with pytest.raises(OSError):
        backend.put(b'partial', str(path))
    assert path.read_bytes() == b'good'
    assert sorted(p.name for p in tmp_path.iterdir()) == ['latest.pth']


def test_resume_checkpoint_is_found_despite_a_broken_pointer(tmp_path):
    from bigfix_mm.engine.checkpoint import find_resume_checkpoint
    assert find_resume_checkpoint(tmp_path) is None
    for name in ('iter_2.pth', 'iter_10.pth', '.iter_12.pth.abc.tmp', 'best_loss.pth'):
        (tmp_path / name).write_bytes(b'x')
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'iter_2.pth'))
    assert find_resume_checkpoint(tmp_path) == str(tmp_path / 'iter_2.pth')
    (tmp_path / 'last_checkpoint').write_text('')  # killed while MMEngine wrote it
    assert find_resume_checkpoint(tmp_path) == str(tmp_path / 'iter_10.pth')
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'iter_99.pth'))  # removed file
    assert find_resume_checkpoint(tmp_path) == str(tmp_path / 'iter_10.pth')


def _truncated_run_checkpoint(tmp_path):
    from mmengine.runner import Runner
    from ..conftest import small_cfg
    cfg = small_cfg(tmp_path / 'run', max_iters=2)
    cfg.train_cfg.val_interval = 100
    Runner.from_cfg(cfg).train()
    path = tmp_path / 'run' / 'iter_2.pth'
    path.write_bytes(path.read_bytes()[:4096])  # e.g. copied off a full disk
    return path


@requires_cifar
def test_corrupt_checkpoint_through_resume_and_load_from(tmp_path):
    from bigfix_mm.engine.launch import build_runner, set_resume
    from ..conftest import small_cfg
    path = _truncated_run_checkpoint(tmp_path)
    cfg = small_cfg(tmp_path / 'run', max_iters=4)
    set_resume(cfg, 'auto')  # tools/train.py --resume
    assert cfg.load_from == str(path)
    with pytest.raises(CheckpointError, match=r'iter_2\.pth is truncated or corrupt'):
        build_runner(cfg).train()
    test_cfg = small_cfg(tmp_path / 'eval')
    test_cfg.load_from = str(path)  # tools/test.py CONFIG CHECKPOINT
    with pytest.raises(CheckpointError, match=r'iter_2\.pth is truncated or corrupt'):
        build_runner(test_cfg).test()


def test_import_leaves_mmengine_loading_alone():
    """A fresh ``import bigfix_mm`` keeps MMEngine's checkpoint loader and file backend."""
    code = '\n'.join([
        'from mmengine.fileio.backends import backends',
        'from mmengine.runner.checkpoint import CheckpointLoader',
        'before = (dict(CheckpointLoader._schemes), dict(backends))',
        'import bigfix_mm',
        'assert (dict(CheckpointLoader._schemes), dict(backends)) == before, "import changed them"',
        'from bigfix_mm.engine import checkpoint',
        'checkpoint.install()',  # the explicit step tools take
        'assert CheckpointLoader._schemes[""] is checkpoint._mmengine_local_loader',
        'assert backends["local"] is checkpoint.AtomicLocalBackend',
    ])
    env = dict(os.environ, PYTHONPATH=str(REPO))
    done = subprocess.run([sys.executable, '-c', code], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]


@pytest.fixture
def stock_mmengine_loading():
    """MMEngine's own loader and backend, as in a process that never installed ours."""
    from mmengine.fileio import LocalBackend, register_backend
    from mmengine.fileio import io as mmengine_io
    from mmengine.runner.checkpoint import load_from_local
    CheckpointLoader.register_scheme(prefixes='', loader=load_from_local, force=True)
    register_backend('local', LocalBackend, force=True, prefixes='')
    mmengine_io.backend_instances.clear()
    yield
    checkpoint.install()


VIDEO_CFG = ['--cfg-options', 'model.transformer.width=16', 'model.transformer.depth=1',
             'train_cfg.max_iters=1', 'train_dataloader.batch_size=2',
             'val_dataloader.dataset.num_samples=2', 'test_dataloader.dataset.num_samples=2']


@pytest.mark.parametrize('tool, args', [
    ('train', ['{cfg}', '--work-dir', '{work}', '--resume', '{ckpt}', *VIDEO_CFG]),
    ('test', ['{cfg}', '{ckpt}', '--work-dir', '{work}', *VIDEO_CFG]),
    ('sample', ['{cfg}', '{ckpt}', '--num', '1', '--device', 'cpu', '--out', '{work}']),
])
def test_tools_load_checkpoints_with_the_safe_loader(tool, args, tmp_path, monkeypatch,
                                                     stock_mmengine_loading):
    """Each tool installs the safe loader itself: an untrusted checkpoint is refused by it
    (its allow-list message, not torch's) and nothing in it runs."""
    monkeypatch.chdir(tmp_path)
    ckpt = tmp_path / 'evil.pth'
    torch.save(dict(state_dict={}, x=Evil()), ckpt)
    names = dict(cfg=str(REPO / 'configs' / 'bigfix_synthetic_video.py'), ckpt=str(ckpt),
                 work=str(tmp_path / 'work'))
    monkeypatch.setattr(sys, 'argv', [tool] + [a.format(**names) for a in args])
    with pytest.raises(CheckpointError, match='outside the allow-list'):
        load_tool(tool).main()
    assert not (tmp_path / 'PWNED').exists()

import os
import pickle
import stat
import subprocess
import sys

import numpy as np
import pytest
import torch
from mmengine.fileio import get_file_backend
from mmengine.logging import HistoryBuffer
from mmengine.runner.checkpoint import CheckpointLoader, save_checkpoint

from bigfix_mm.engine import checkpoint
from bigfix_mm.engine.checkpoint import CheckpointError, load_checkpoint_file, safe_loading

from tests.conftest import REPO, SMALL_CONFIG, load_tool


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
    with safe_loading(), pytest.raises(CheckpointError,
                                       match='iter_2.pth.*truncated or corrupt'):
        CheckpointLoader.load_checkpoint(str(path))  # as bigfix_mm's runners load
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


@pytest.fixture
def umask():
    def set_umask(mask):
        os.umask(mask)
    old = os.umask(0o022)
    yield set_umask
    os.umask(old)


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.mark.parametrize('mask', [0o022, 0o027])
def test_saved_checkpoint_has_the_umask_mode(tmp_path, umask, mask):
    """Atomic writes go through mkstemp (0600): the file must still get the mode a
    plain write gives, so that others on a shared cluster can read checkpoints."""
    umask(mask)
    path = tmp_path / 'iter_1.pth'
    save_checkpoint(dict(state_dict=dict(w=torch.ones(2))), str(path))
    assert mode(path) == 0o666 & ~mask
    os.chmod(path, 0o664)  # a file that is replaced keeps its mode, as with open('wb')
    save_checkpoint(dict(state_dict=dict(w=torch.zeros(2))), str(path))
    assert mode(path) == 0o664


def test_atomic_write_goes_through_a_symlink(tmp_path):
    real = tmp_path / 'store' / 'latest.pth'
    real.parent.mkdir()
    real.write_bytes(b'old')
    link = tmp_path / 'latest.pth'
    link.symlink_to(real)
    get_file_backend(str(link)).put(b'new', str(link))
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert real.read_bytes() == b'new'


def foreign_checkpoint(tmp_path):
    """What another MMEngine-based library may write: its config as a ConfigDict in meta."""
    from mmengine.config import ConfigDict
    path = tmp_path / 'foreign.pth'
    torch.save(dict(state_dict=dict(w=torch.ones(2)),
                    meta=dict(cfg=ConfigDict(model=dict(type='Foo', depth=2)))), path)
    return path


def mmengine_own_outcome(path):
    """MMEngine's own local loader, as other libraries get it without bigfix_mm."""
    from mmengine.runner.checkpoint import load_from_local
    try:
        return load_from_local(str(path), 'cpu')['meta']['cfg'].model.depth
    except Exception as err:  # noqa: BLE001
        return type(err)


@pytest.mark.parametrize('no_weights_only', [False, True])
def test_foreign_mmengine_checkpoint_loads_as_without_bigfix(tmp_path, monkeypatch,
                                                              no_weights_only):
    """Outside bigfix_mm's own runs, MMEngine loads other libraries' checkpoints exactly
    as it would without bigfix_mm (here with and without the library's
    TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1); bigfix_mm's runs keep refusing the type."""
    if no_weights_only:
        monkeypatch.setenv('TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD', '1')
    path = foreign_checkpoint(tmp_path)
    expected = mmengine_own_outcome(path)
    assert expected == (2 if no_weights_only else pickle.UnpicklingError)
    try:
        got = CheckpointLoader.load_checkpoint(str(path), map_location='cpu')['meta']['cfg']
        got = got.model.depth
    except Exception as err:  # noqa: BLE001
        got = type(err)
    assert got == expected
    with safe_loading(), pytest.raises(CheckpointError, match='foreign.pth.*allow-list'):
        CheckpointLoader.load_checkpoint(str(path), map_location='cpu')


def test_loading_leaves_other_libraries_safe_globals(tmp_path):
    """torch's safe_globals context removes its entries on exit, also ones another
    library had added for its own loads before."""
    before = torch.serialization.get_safe_globals()
    torch.serialization.add_safe_globals([HistoryBuffer])
    try:
        path = tmp_path / 'iter_1.pth'
        save_checkpoint(dict(state_dict={}, buffer=HistoryBuffer([1.0], [1])), str(path))
        load_checkpoint_file(path)
        assert HistoryBuffer in torch.serialization.get_safe_globals()
    finally:
        torch.serialization.clear_safe_globals()
        torch.serialization.add_safe_globals(before)


def test_resume_checkpoint_is_found_despite_a_broken_pointer(tmp_path):
    from bigfix_mm.engine.checkpoint import find_resume_checkpoint
    assert find_resume_checkpoint(tmp_path) is None
    for name in ('iter_2.pth', 'iter_10.pth', '.iter_12.pth.abc.tmp', '.iter_14.pth.abc.tmp.pth', 'best_loss.pth'):
        torch.save({'meta': {}}, tmp_path / name)
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'iter_2.pth'))
    assert find_resume_checkpoint(tmp_path) == str(tmp_path / 'iter_2.pth')
    (tmp_path / 'last_checkpoint').write_text('')  # killed while MMEngine wrote it
    assert find_resume_checkpoint(tmp_path) == str(tmp_path / 'iter_10.pth')
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'iter_99.pth'))  # removed file
    assert find_resume_checkpoint(tmp_path) == str(tmp_path / 'iter_10.pth')


def _truncated_run_checkpoint(tmp_path):
    from mmengine.runner import Runner
    from tests.conftest import small_cfg
    cfg = small_cfg(tmp_path / 'run', max_iters=2)
    cfg.train_cfg.val_interval = 100
    Runner.from_cfg(cfg).train()
    path = tmp_path / 'run' / 'iter_2.pth'
    path.write_bytes(path.read_bytes()[:4096])  # e.g. copied off a full disk
    return path


def test_corrupt_checkpoint_through_resume_and_load_from(tmp_path):
    from bigfix_mm.engine.launch import build_runner, set_resume
    from tests.conftest import small_cfg
    path = _truncated_run_checkpoint(tmp_path)
    cfg = small_cfg(tmp_path / 'run', max_iters=4)
    with pytest.raises(CheckpointError, match=r'no checkpoint of .* loads \(tried .*iter_2\.pth'):
        set_resume(cfg, 'auto')  # tools/train.py --resume: the only checkpoint is truncated
    cfg.resume, cfg.load_from = True, str(path)  # tools/train.py --resume PATH
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


SMALL = ['--cfg-options', 'model.transformer.size=None', 'model.transformer.width=16',
         'model.transformer.depth=1', 'model.transformer.heads=2', 'train_cfg.max_iters=1',
         'train_dataloader.batch_size=2', 'train_dataloader.num_workers=0',
         'train_dataloader.persistent_workers=False', 'val_dataloader.dataset.num_samples=2',
         'test_dataloader.dataset.num_samples=2']


@pytest.mark.parametrize('tool, args', [
    ('train', ['{cfg}', '--work-dir', '{work}', '--resume', '{ckpt}', *SMALL]),
    ('test', ['{cfg}', '{ckpt}', '--work-dir', '{work}', *SMALL]),
    ('sample', ['{cfg}', '{ckpt}', '--num', '1', '--device', 'cpu', '--out', '{work}']),
])
def test_tools_load_checkpoints_with_the_safe_loader(tool, args, tmp_path, monkeypatch,
                                                     stock_mmengine_loading):
    """Each tool installs the safe loader itself: an untrusted checkpoint is refused by it
    (its allow-list message, not torch's) and nothing in it runs."""
    monkeypatch.chdir(tmp_path)
    ckpt = tmp_path / 'evil.pth'
    torch.save(dict(state_dict={}, x=Evil()), ckpt)
    names = dict(cfg=str(SMALL_CONFIG), ckpt=str(ckpt),
                 work=str(tmp_path / 'work'))
    monkeypatch.setattr(sys, 'argv', [tool] + [a.format(**names) for a in args])
    with pytest.raises(CheckpointError, match='outside the allow-list'):
        load_tool(tool).main()
    assert not (tmp_path / 'PWNED').exists()

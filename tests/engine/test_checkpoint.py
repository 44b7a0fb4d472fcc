import numpy as np
import pytest
import torch
from mmengine.fileio import get_file_backend
from mmengine.logging import HistoryBuffer
from mmengine.runner.checkpoint import CheckpointLoader, save_checkpoint

from bigfix_mm.engine.checkpoint import CheckpointError, load_checkpoint_file

from ..conftest import requires_cifar


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
        torch.save({'meta': {}}, tmp_path / name)
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'iter_2.pth'))
    assert find_resume_checkpoint(tmp_path) == str(tmp_path / 'iter_2.pth')
    (tmp_path / 'last_checkpoint').write_text('')  # killed while MMEngine wrote it
    assert find_resume_checkpoint(tmp_path) == str(tmp_path / 'iter_10.pth')
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'iter_99.pth'))  # removed file
    assert find_resume_checkpoint(tmp_path) == str(tmp_path / 'iter_10.pth')


def _truncated_run_checkpoint(tmp_path):
    from mmengine.runner import Runner
    from ..tools.test_train import small_cfg
    cfg = small_cfg(tmp_path / 'run', max_iters=2)
    cfg.train_cfg.val_interval = 100
    Runner.from_cfg(cfg).train()
    path = tmp_path / 'run' / 'iter_2.pth'
    path.write_bytes(path.read_bytes()[:4096])  # e.g. copied off a full disk
    return path


@requires_cifar
def test_corrupt_checkpoint_through_resume_and_load_from(tmp_path):
    from bigfix_mm.engine.launch import build_runner, set_resume
    from ..tools.test_train import small_cfg
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

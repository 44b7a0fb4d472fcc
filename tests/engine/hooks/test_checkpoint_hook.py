"""A full disk during a save with max_keep_ckpts=1: the previous checkpoint survives, the
error names the file, the free space and the intact checkpoint (one block, exit 2), and
--resume continues once space is freed (slow)."""
import errno
import pathlib
import subprocess

import pytest

from bigfix_mm.core.checkpoint import checkpoint_problem
from bigfix_mm.engine.hooks import CheckpointHook
from bigfix_mm.registry import HOOKS

from tests.conftest import SMALL_CONFIG, input_error_block, tool_exit_status

RUN = """
_base_ = ['{base}']
custom_imports = dict(imports=['bigfix_mm', 'tests.tools.probe_hooks'], allow_failed_imports=False)
model = dict(transformer=dict(size=None, width=32, depth=1, heads=2))
train_cfg = dict(max_iters={iters}, val_interval=100)
train_dataloader = dict(batch_size=2, num_workers=0, persistent_workers=False,
                        dataset=dict(num_samples=16))
val_dataloader = dict(num_workers=0, persistent_workers=False, dataset=dict(num_samples=2))
test_dataloader = val_dataloader
param_scheduler = []
default_hooks = dict(checkpoint=dict(interval=1, max_keep_ckpts=1, save_last=False))
custom_hooks = [{hooks}]
log_level = 'WARNING'
"""


@pytest.fixture
def small_disk(tmp_path, monkeypatch):
    """(folder, mounted, full): an 8 MiB tmpfs that FillDiskHook fills before the 2nd
    save; where mounting is not allowed, a plain folder where the write of iter_2.pth
    fails with ENOSPC on purpose while ``full['on']``."""
    disk = tmp_path / 'disk'
    disk.mkdir()
    mounted = subprocess.run(['mount', '-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', str(disk)],
                             capture_output=True).returncode == 0
    full = {'on': not mounted}
    write_bytes = pathlib.Path.write_bytes

    def full_at_iter_2(self, data):
        if full['on'] and self.name.startswith('.iter_2.pth'):
            raise OSError(errno.ENOSPC, 'No space left on device', str(self))
        return write_bytes(self, data)

    monkeypatch.setattr(pathlib.Path, 'write_bytes', full_at_iter_2)
    yield disk, mounted, full
    if mounted:
        subprocess.run(['umount', '-l', str(disk)], capture_output=True)


def test_the_mmagic_scope_builds_the_hook_that_saves_before_deleting():
    assert HOOKS.get('CheckpointHook') is CheckpointHook


def _fill_and_fail(small_disk, tmp_path, capsys):
    """A run whose second save meets a full disk: (work dir, config, full switch)."""
    disk, mounted, full = small_disk
    work = disk / 'work'
    hooks = "dict(type='FillDiskHook', at_save=2)" if mounted else ''
    config = tmp_path / 'run.py'
    config.write_text(RUN.format(base=SMALL_CONFIG, iters=2, hooks=hooks))
    assert tool_exit_status('train', [str(config), '--work-dir', str(work)]) == 2
    block = input_error_block(capsys.readouterr().err)
    assert 'DiskFullError' in block
    assert f'no space left on device while writing {work}/iter_2.pth (' in block
    assert ' free there); the partial file was removed.' in block
    assert f'The newest complete checkpoint, {work}/iter_1.pth, is intact' in block
    assert f'--work-dir {work} --resume' in block
    assert checkpoint_problem(work / 'iter_1.pth') is None  # complete, loads
    assert not (work / 'iter_2.pth').exists() and not list(work.glob('.iter_*'))
    assert (work / 'last_checkpoint').read_text() == str(work / 'iter_1.pth')
    return work, config, full


def test_a_full_disk_keeps_the_newest_checkpoint(small_disk, tmp_path, capsys):
    """MMEngine's own hook deleted iter_1.pth before writing iter_2.pth: no checkpoint left."""
    _fill_and_fail(small_disk, tmp_path, capsys)


@pytest.mark.slow  # two runs, about 6 s
def test_resume_continues_once_space_is_freed(small_disk, tmp_path, capsys):
    work, config, full = _fill_and_fail(small_disk, tmp_path, capsys)
    (work / 'filler.bin').unlink(missing_ok=True)
    full['on'] = False
    config.write_text(RUN.format(base=SMALL_CONFIG, iters=3, hooks=''))
    assert tool_exit_status('train', [str(config), '--work-dir', str(work), '--resume']) == 0
    assert sorted(p.name for p in work.glob('iter_*.pth')) == ['iter_3.pth']  # one kept

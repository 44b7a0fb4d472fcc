"""kill -9 during training, then --resume: the losses equal those of an uninterrupted run."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict

import pytest

from tests.conftest import REPO
from tests.tools.test_dist_train import run_tool, subprocess_env
from tests.conftest import small_cfg

TRAIN = str(REPO / 'tools' / 'train.py')


def resume_config(path: Path, work: Path, pause_at: int = -1, num_workers: int = 0) -> Path:
    """The synthetic-shapes config shrunk: 8 iterations, validation and checkpoints every 2."""
    cfg = small_cfg(work, max_iters=8)
    cfg.log_processor.custom_cfg = [dict(data_src='loss', method_name='mean', window_size=1)]
    cfg.train_dataloader.num_workers = num_workers
    cfg.train_dataloader.persistent_workers = num_workers > 0
    cfg.custom_hooks[0].update(num_samples=4)  # FixingSamplerHook: samples after validation
    if pause_at >= 0:
        cfg.custom_imports.imports = ['bigfix_mm', 'tests.tools.probe_hooks']
        cfg.custom_hooks.append(dict(type='PauseHook', at_iter=pause_at,
                                     flag_file=str(work / 'paused')))
    cfg.dump(str(path))
    return path


def losses(work: Path) -> Dict[int, float]:
    """step -> training loss over every run (timestamp folder) of a work dir."""
    out = {}
    for scalars in sorted(work.glob('*/vis_data/scalars.json')):
        for line in scalars.read_text().splitlines():
            record = json.loads(line)
            if 'loss' in record:
                out[record['step']] = record['loss']
    return out


def kill_after_checkpoint(config: Path, work: Path, env: dict, timeout: float = 300) -> None:
    """Start training, wait until it is parked after iter_4.pth, then SIGKILL it."""
    proc = subprocess.Popen([sys.executable, TRAIN, str(config), '--work-dir', str(work)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)
    deadline = time.time() + timeout
    try:
        while not (work / 'paused').exists():
            if proc.poll() is not None:
                raise AssertionError(f'run ended before the kill:\n{proc.stderr.read()[-3000:]}')
            if time.time() > deadline:
                raise AssertionError('run did not reach the kill point in time')
            time.sleep(0.2)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)  # kill -9: no cleanup, no final checkpoint
        proc.wait()
    assert proc.returncode == -signal.SIGKILL


@pytest.mark.parametrize('num_workers', [
    0,
    pytest.param(1, marks=pytest.mark.slow),
])
@pytest.mark.slow  # a real tool process, over 10 s
def test_kill9_then_resume_gives_the_uninterrupted_losses(tmp_path, num_workers):
    env = subprocess_env()
    clean, broken = tmp_path / 'clean', tmp_path / 'broken'
    clean.mkdir()
    broken.mkdir()
    clean_cfg = resume_config(tmp_path / 'clean_cfg.py', clean, num_workers=num_workers)
    kill_cfg = resume_config(tmp_path / 'kill_cfg.py', broken, pause_at=5,
                             num_workers=num_workers)
    resume_cfg = resume_config(tmp_path / 'resume_cfg.py', broken, num_workers=num_workers)

    clean_run = subprocess.Popen([sys.executable, TRAIN, str(clean_cfg), '--work-dir',
                                  str(clean)], env=env, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        # iterations 1-5 run, checkpoints iter_2 / iter_4 are written, then kill -9
        kill_after_checkpoint(kill_cfg, broken, env)
        assert (broken / 'iter_4.pth').is_file() and not (broken / 'iter_6.pth').exists()
        killed = losses(broken)
        assert sorted(killed) == [1, 2, 3, 4, 5]

        resumed = run_tool([sys.executable, TRAIN, str(resume_cfg), '--work-dir', str(broken),
                            '--resume'], env)
        assert resumed.returncode == 0, resumed.stderr[-4000:]
        _, err = clean_run.communicate(timeout=300)
        assert clean_run.returncode == 0, err[-4000:]
    finally:
        if clean_run.poll() is None:
            os.killpg(clean_run.pid, signal.SIGKILL)

    reference, after = losses(clean), losses(broken)
    assert sorted(reference) == list(range(1, 9))
    assert (broken / 'iter_8.pth').is_file()
    # the lost iteration 5 is redone from iter_4.pth, and 5..8 equal the uninterrupted run
    for step in range(1, 9):
        assert after[step] == reference[step], (step, after[step], reference[step])
    assert killed == {s: reference[s] for s in range(1, 6)}


@pytest.mark.slow  # a real tool process, over 10 s
def test_resume_skips_a_truncated_newest_checkpoint(tmp_path):
    """iter_4.pth cut short: --resume warns naming it and continues from iter_2.pth."""
    from mmengine.config import Config
    from mmengine.runner import Runner
    from bigfix_mm.engine.checkpoint import load_checkpoint_file
    work = tmp_path / 'work'
    config = resume_config(tmp_path / 'cfg.py', work)
    cfg = Config.fromfile(str(config))
    cfg.train_cfg.max_iters = 4
    Runner.from_cfg(cfg).train()
    newest = work / 'iter_4.pth'
    newest.write_bytes(newest.read_bytes()[:len(newest.read_bytes()) // 2])  # a cut-off copy

    proc = run_tool([sys.executable, TRAIN, str(config), '--work-dir', str(work), '--resume',
                     '--cfg-options', 'train_cfg.max_iters=6'], subprocess_env())
    assert proc.returncode == 0, proc.stderr[-4000:]
    log = proc.stdout + proc.stderr
    assert f'--resume: skipping {newest}: it does not load' in log
    assert 'Advance dataloader 2 steps' in log  # MMEngine resumed at iteration 2
    steps = losses(work)
    assert sorted(steps) == [1, 2, 3, 4, 5, 6]  # 3 and 4 redone after iter_2, then 5, 6
    assert load_checkpoint_file(work / 'iter_6.pth')['meta']['iter'] == 6

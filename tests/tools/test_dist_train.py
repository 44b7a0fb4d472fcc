"""A real 2-process DDP run on CPU (gloo) through tools/dist_train.sh (torchrun)."""
import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

import torch

from tests.conftest import REPO
from tests.conftest import small_cfg


def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def subprocess_env() -> dict:
    env = dict(os.environ, NO_ALBUMENTATIONS_UPDATE='1', OMP_NUM_THREADS='1',
               PYTHONPATH=str(REPO), CUDA_VISIBLE_DEVICES='')
    env.pop('LOCAL_RANK', None)
    return env


def run_tool(cmd: list, env: dict, timeout: float = 300, cwd=None) -> subprocess.CompletedProcess:
    """Run a tool in its own process group; on timeout the whole group is killed."""
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True, cwd=cwd)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        raise AssertionError(f'{cmd} timed out after {timeout} s:\n{err[-4000:]}')
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


def probe_config(work: Path, max_iters: int = 4) -> Path:
    cfg = small_cfg(work, max_iters=max_iters)
    cfg.train_cfg.val_interval = max_iters  # one distributed validation, at the end
    cfg.custom_imports.imports = ['bigfix_mm', 'tests.tools.probe_hooks']
    cfg.custom_hooks = [dict(type='RankProbeHook', out_dir=str(work / 'probe'))]
    work.mkdir(parents=True, exist_ok=True)
    path = work.parent / f'{work.name}_cfg.py'
    cfg.dump(str(path))
    return path


@pytest.mark.slow  # a real tool process, over 10 s
def test_two_process_ddp_on_cpu(tmp_path):
    work = tmp_path / 'work'
    config = probe_config(work)
    env = subprocess_env()
    env.update(PYTHON=sys.executable, PORT=str(free_port()))
    proc = run_tool(['bash', str(REPO / 'tools' / 'dist_train.sh'), str(config), '2',
                     '--work-dir', str(work)], env)
    assert proc.returncode == 0, proc.stderr[-4000:]
    probe = work / 'probe'
    ranks = [json.loads((probe / f'rank{r}.json').read_text()) for r in (0, 1)]

    # the model wrapper of default_runtime.py, one process group of two
    assert [r['world_size'] for r in ranks] == [2, 2]
    assert ranks[0]['model_wrapper'] == 'GuardedDistributedDataParallel'
    # per-rank seeds (randomness.diff_rank_seed) and disjoint data shards
    assert ranks[0]['seed'] != ranks[1]['seed']
    seen = [set(sum(r['indices'], [])) for r in ranks]
    assert len(seen[0]) == len(seen[1]) == 4 * 4 and not seen[0] & seen[1]

    # identical weights on both ranks after every step, and they did change
    first = torch.load(probe / 'rank0_iter1.pt')
    for it in range(1, 5):
        w0, w1 = (torch.load(probe / f'rank{r}_iter{it}.pt') for r in (0, 1))
        assert torch.equal(w0, w1), f'ranks differ after iteration {it}'
    assert not torch.equal(first, torch.load(probe / 'rank0_iter4.pt'))

    # only rank 0 writes checkpoints
    assert {'iter_2.pth', 'iter_4.pth'} <= set(ranks[0]['writes'])
    assert not [w for w in ranks[1]['writes'] if w.endswith('.pth')]
    assert sorted(p.name for p in work.glob('*.pth')) == ['iter_2.pth', 'iter_4.pth']

    # the global batch is checked at the start (the config states 1 x 32 x 1)
    log = next(work.glob('*/*.log')).read_text()
    assert "global batch 8 (2 x 4 x 1) differs from the config's auto_scale_lr" in log
    # validation ran (DefaultSampler shards, results gathered on rank 0)
    scalars = next(work.glob('*/vis_data/scalars.json')).read_text()
    assert 'token/injected_acc' in scalars

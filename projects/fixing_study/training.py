"""Train the twins with tools/train.py (the MMEngine Runner), both at once, resumably."""
import copy
import json
import os
import os.path as osp
import shlex
import subprocess
import sys
import time
from typing import Dict, List

from mmengine.config import Config

from bigfix_mm.core.files import write_text_atomic

from .cache import write_json

REPO = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))

# Config entries that cannot change the trained weights: where the run lives, what it
# logs, when it checkpoints, and what it validates or samples on the side.
NOT_TRAINING = ('work_dir', 'launcher', 'resume', 'log_level', 'log_processor', 'visualizer',
                'val_dataloader', 'val_evaluator', 'val_cfg', 'test_dataloader',
                'test_evaluator', 'test_cfg')
OBSERVING_HOOKS = ('timer', 'logger', 'checkpoint', 'visualization')  # default_hooks keys
OBSERVING_HOOK_TYPES = ('FixingSamplerHook',)  # custom_hooks types


def training_settings(config_text: str) -> dict:
    """The part of a config (its dumped text, ``Config.pretty_text``, as stored beside a
    run) that decides the trained weights; a run is reused when this is unchanged:
    everything but :data:`NOT_TRAINING`, the observing default hooks and the observing
    custom hooks."""
    settings = Config.fromstring(config_text, '.py').to_dict()
    for key in NOT_TRAINING:
        settings.pop(key, None)
    for key in OBSERVING_HOOKS:
        settings.get('default_hooks', {}).pop(key, None)
    settings['custom_hooks'] = [h for h in settings.get('custom_hooks', [])
                                if h.get('type') not in OBSERVING_HOOK_TYPES]
    return settings


def twin_tag(name: str) -> str:
    """'p=0.2' -> 'p0.2' (a folder name)."""
    return name.replace('=', '')


def child_env(threads: int) -> dict:
    return dict(os.environ, NO_ALBUMENTATIONS_UPDATE='1', OMP_NUM_THREADS=str(threads),
                PYTHONPATH=os.pathsep.join([REPO] + [p for p in
                                                     os.environ.get('PYTHONPATH', '').split(
                                                         os.pathsep) if p]))


def check_not_running(work_dir: str) -> None:
    """Refuse to start a second training into ``work_dir`` while one is alive."""
    pid_file = work_dir.rstrip('/') + '.pid'
    if not osp.isfile(pid_file):
        return
    text = open(pid_file).read().strip()
    pid = int(text) if text.isdigit() else 0
    if pid <= 0:
        return
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, ValueError, OverflowError):
        return  # finished or killed: resuming is safe
    except PermissionError:
        pass
    raise RuntimeError(f'{work_dir} is being trained by process {pid} ({pid_file}); wait for '
                       f'it (or end it) before running the study again.')


def train_twins(configs: Dict[str, Config], work_root: str, iters: int, threads: int = 1,
                nice: int = 10) -> Dict[str, dict]:
    """Train every twin config (one process each, concurrently) unless finished.

    Each run's config is written to ``work_root/configs/`` and trained by
    ``tools/train.py --resume`` into ``work_root/train_<tag>``: an interrupted
    run continues from its last checkpoint; a finished one (its
    ``iter_<iters>.pth`` and ``done.json`` exist and its :func:`training_settings`
    are unchanged) is not started again. A changed training setting retrains from
    scratch; a change elsewhere (logging, validation, side sampling) does not.

    Returns:
        name -> dict(work_dir, config, checkpoint, seconds).
    """
    procs, out = {}, {}
    for name, cfg in configs.items():
        tag = twin_tag(name)
        work_dir = osp.abspath(osp.join(work_root, f'train_{tag}'))
        cfg = copy.deepcopy(cfg)
        cfg.work_dir = work_dir
        # outside work_dir: the Runner dumps its own copy (with `launcher` added) there
        cfg_path = osp.abspath(osp.join(work_root, 'configs', f'train_{tag}.py'))
        ckpt = osp.join(work_dir, f'iter_{iters}.pth')
        done = osp.join(work_dir, 'done.json')
        text = cfg.pretty_text
        same = (osp.isfile(cfg_path) and
                training_settings(open(cfg_path).read()) == training_settings(text))
        out[name] = dict(work_dir=work_dir, config=cfg_path, checkpoint=ckpt, done=done)
        if same and osp.isfile(ckpt) and osp.isfile(done):
            print(f'[study] {name}: finished training reused ({ckpt})', flush=True)
            continue
        check_not_running(work_dir)
        if not same and osp.isdir(work_dir):
            stale = osp.join(work_root, f'stale_train_{tag}_{int(time.time())}')
            print(f'[study] {name}: config changed, moving the old run to {stale}', flush=True)
            os.replace(work_dir, stale)
        write_text_atomic(cfg_path, text)
        # to niceness `nice` in all (a driver started under nice must not nice twice)
        cmd: List[str] = ['nice', '-n', str(max(0, nice - os.nice(0))), sys.executable,
                          osp.join(REPO, 'tools', 'train.py'), cfg_path, '--work-dir', work_dir,
                          '--resume']
        os.makedirs(work_dir, exist_ok=True)
        log = open(osp.join(work_root, f'train_{tag}.log'), 'a')
        print(f'[study] {name}: + {" ".join(shlex.quote(c) for c in cmd)}', flush=True)
        proc = subprocess.Popen(cmd, env=child_env(threads), cwd=REPO, stdout=log,
                                stderr=subprocess.STDOUT)
        with open(osp.join(work_root, f'train_{tag}.pid'), 'w') as f:
            f.write(str(proc.pid))
        procs[name] = (proc, time.time(), log)
    failed = []
    for name, (proc, start, log) in procs.items():
        rc = proc.wait()
        log.close()
        if rc != 0:
            failed.append(f'{name} (exit {rc}, see {log.name})')
            continue
        # wall seconds of the last process (a resumed run: of its last part)
        write_json(out[name]['done'], dict(seconds=time.time() - start))
    if failed:
        raise RuntimeError('training failed: ' + '; '.join(failed) + '. Rerun the same command '
                           'to resume from the last checkpoint.')
    for info in out.values():
        with open(info['done']) as f:
            info['seconds'] = json.load(f)['seconds']
    return out

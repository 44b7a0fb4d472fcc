"""Real ``tools/train.py`` runs of the ImageNet config on synthetic tokens: kill and
resume, and FSDP with a world size of one.

Each run is its own process, started as a user starts it
(``python tools/train.py CONFIG --work-dir D [--resume] [--launcher pytorch]``), on a
config written here from ``configs/bigfix/bigfix_imagenet256.py`` (16x16 tokens, K = 16,384,
``AmpOptimWrapper`` bf16, EMA) plus the sampler hook, with validation off (its metric
and loader are not what is checked) and a constant learning rate of 1e-3, so that the
model learns the synthetic classes within a few dozen iterations and a loss depends on
the exact batch, corruption and dropout drawn: a resume that restored the wrong random
state would show in the losses.
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import numpy as np

# paths inside the repository checkout (the configs and tools are not in the wheel)
TRAIN_TOOL = Path('tools') / 'train.py'
IMAGENET_CONFIG = Path('configs') / 'bigfix' / 'bigfix_imagenet256.py'
FSDP_FRAGMENT = Path('configs') / '_base_' / 'strategies' / 'fsdp.py'


@dataclass
class TrainShape:
    """Model and data of the training checks. ``transformer``: overrides of the config's
    ``model.transformer``; ``iters``: iterations of the uninterrupted run; a checkpoint
    every ``ckpt_every``; the killed run dies after ``kill_after`` iterations."""
    transformer: dict
    grid: Sequence[int] = (16, 16)
    codebook_size: int = 16384
    num_classes: int = 1000
    batch: int = 8
    iters: int = 40
    ckpt_every: int = 20
    kill_after: int = 23
    num_workers: int = 2
    fsdp_transformer: Optional[dict] = None  # default: the config's (size large)


FULL = TrainShape(transformer=dict(size='tiny'))
TINY = TrainShape(transformer=dict(size=None, width=64, depth=2, heads=2), grid=(4, 4),
                  codebook_size=256, num_classes=10, batch=4, iters=8, ckpt_every=4,
                  kill_after=6, num_workers=1,
                  fsdp_transformer=dict(size=None, width=64, depth=2, heads=2))


def write_synthetic_tokens(root: Path, shape: TrainShape, num: int = 256, classes: int = 16,
                           seed: int = 0) -> Path:
    """A learnable token set in :class:`~bigfix_mm.datasets.TokenDataset`'s layout: each
    of ``classes`` labels has one random (H, W) token map, and each sample is its class's
    map with 10% of the positions replaced by random codes."""
    from bigfix_mm.datasets.token_dataset import token_dtype, write_token_meta
    rng = np.random.default_rng(seed)
    k = shape.codebook_size
    maps = rng.integers(0, k, (classes, *shape.grid))
    labels = np.arange(num) % classes
    tokens = maps[labels]
    noise = rng.random(tokens.shape) < 0.1
    tokens[noise] = rng.integers(0, k, int(noise.sum()))
    root.mkdir(parents=True, exist_ok=True)
    np.save(root / 'tokens.npy', tokens.astype(token_dtype(k)))
    np.save(root / 'labels.npy', (labels * (shape.num_classes // classes)).astype(np.int64))
    write_token_meta(root, codebook_size=k, grid=list(shape.grid), num_classes=shape.num_classes,
                     tokenizer='synthetic', num_samples=num)
    return root


def train_config(repo: Path, path: Path, work_dir: Path, data_root: Path, shape: TrainShape,
                 device: str, fsdp: bool = False, kill_after: Optional[int] = None,
                 rng_state: bool = True) -> Path:
    """Write the check's config (see the module docstring) to ``path``; ``repo``: the
    checkout whose configs it builds on; ``rng_state=False`` drops the ``RNGStateHook``
    (a resume then continues with fresh random streams: the control run)."""
    from mmengine.config import Config
    bases = [str(repo / IMAGENET_CONFIG)] + ([str(repo / FSDP_FRAGMENT)] if fsdp else [])
    path.parent.mkdir(parents=True, exist_ok=True)
    stub = path.with_name(path.stem + '_bases.py')
    stub.write_text(f'_base_ = {bases!r}\n')
    cfg = Config.fromfile(str(stub))
    cfg.work_dir = str(work_dir)
    transformer = (shape.fsdp_transformer or {}) if fsdp else shape.transformer
    cfg.model.transformer.update(codebook_size=shape.codebook_size, grid=tuple(shape.grid),
                                 num_classes=shape.num_classes, **transformer)
    num_tokens = int(np.prod(shape.grid))
    cfg.model.sampler.steps = min(cfg.model.sampler.steps, num_tokens)
    loader = cfg.train_dataloader
    loader.batch_size = shape.batch
    loader.num_workers = shape.num_workers
    loader.persistent_workers = shape.num_workers > 0
    loader.dataset.data_root = str(data_root)
    cfg.val_dataloader = cfg.val_cfg = cfg.val_evaluator = None
    cfg.test_dataloader = cfg.test_cfg = cfg.test_evaluator = None
    cfg.train_cfg.max_iters = shape.iters
    cfg.param_scheduler = None
    cfg.optim_wrapper.optimizer.lr = 1e-3
    if device == 'cpu':  # MMEngine's AmpOptimWrapper needs a GPU: fp32 there
        cfg.optim_wrapper.type = 'OptimWrapper'
        for key in ('dtype', 'loss_scale'):
            cfg.optim_wrapper.pop(key, None)
    cfg.default_hooks.logger.interval = 1
    cfg.default_hooks.checkpoint.update(interval=shape.ckpt_every, max_keep_ckpts=-1)
    cfg.log_processor.custom_cfg = [dict(data_src='loss', method_name='mean', window_size=1)]
    if not rng_state:
        cfg.default_hooks.pop('rng_state')
    if fsdp:
        cfg.custom_hooks = []  # EMAHook and FixingSamplerHook are refused under FSDP
        if device == 'cpu':
            cfg.strategy.model_wrapper.device_id = 'cpu'
    else:
        cfg.custom_hooks.append(dict(type='FixingSamplerHook', interval=shape.ckpt_every,
                                     num_samples=4, steps=4, cfg_scale=1.5))
    if kill_after is not None:
        cfg.custom_imports.imports = list(cfg.custom_imports.imports) + [
            'bigfix_mm.apis.gpu_kit.kill_hook']
        cfg.custom_hooks.append(dict(type='SelfKillHook', at_iter=kill_after))
    cfg.dump(str(path))
    return path


def train_losses(work_dir: Path) -> Dict[int, float]:
    """step -> logged training loss, over every run (timestamp folder) of a work dir."""
    out = {}
    for scalars in sorted(work_dir.glob('*/vis_data/scalars.json')):
        for line in scalars.read_text().splitlines():
            record = json.loads(line)
            if 'loss' in record:
                out[record['step']] = record['loss']
    return out


def start_train(repo: Path, config: Path, work_dir: Path, log: Path, args: Sequence[str] = (),
                env: Optional[dict] = None) -> subprocess.Popen:
    """``tools/train.py CONFIG --work-dir D ARGS`` of ``repo``, output to ``log``. It stays
    in this process's group, so a check killed at its time limit takes it along."""
    cmd = [sys.executable, str(repo / TRAIN_TOOL), str(config), '--work-dir', str(work_dir),
           *args]
    with open(log, 'w') as out:
        return subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, cwd=str(repo),
                                env=env or os.environ.copy())


def finish(proc: subprocess.Popen, log: Path, what: str, expect: int = 0) -> None:
    """Wait for ``proc``; raise with the end of its log unless it exited with ``expect``.
    (A SIGKILLed run's loader workers see their parent gone and exit by themselves.)"""
    code = proc.wait()
    if code != expect:
        raise RuntimeError(f'{what} exited with {code} (expected {expect}); end of {log}:\n'
                           + log.read_text()[-3000:])


def resume_check(repo: Path, work: Path, shape: TrainShape, device: str) -> List[dict]:
    """Two uninterrupted runs and a run SIGKILLed after ``kill_after`` iterations (all at
    once), then ``--resume`` of the killed one, and of a copy of it without the
    ``RNGStateHook`` (the control): the resumed losses against the uninterrupted ones.

    ``resumed_max_abs_diff``: the resumed run against the first uninterrupted one over the
    redone iterations; ``rerun_max_abs_diff``: the second uninterrupted run against the
    first over the same iterations, the device's own run-to-run spread (0 where its
    kernels are deterministic); ``no_rng_restore_max_abs_diff``: the control, what a resume
    that lost the random streams gives (``rng_sensitive``: the check can tell the two
    apart). Passes when the resumed losses are bitwise equal, or, on a GPU, no further
    from the reference than twice the rerun spread.
    """
    data = write_synthetic_tokens(work / 'tokens', shape)
    dirs = {name: work / name for name in ('clean', 'rerun', 'killed', 'control')}

    def config(name: str, run_dir: str, **kwargs) -> Path:
        return train_config(repo, work / 'cfg' / f'{name}.py', dirs[run_dir], data, shape,
                            device, **kwargs)

    start = time.perf_counter()
    runs = {name: start_train(repo, config(name, name), dirs[name], work / f'{name}.log')
            for name in ('clean', 'rerun')}
    killed = start_train(repo, config('kill', 'killed', kill_after=shape.kill_after),
                         dirs['killed'], work / 'killed.log')
    finish(killed, work / 'killed.log', 'the run to be killed', expect=-signal.SIGKILL)
    shutil.copytree(dirs['killed'], dirs['control'])
    resumed = {name: start_train(repo, config(f'resume_{name}', name, rng_state=rng),
                                 dirs[name], work / f'resumed_{name}.log', ['--resume'])
               for name, rng in (('killed', True), ('control', False))}
    for name, proc in resumed.items():
        finish(proc, work / f'resumed_{name}.log', f'the resumed run ({name})')
    for name, proc in runs.items():
        finish(proc, work / f'{name}.log', f'the uninterrupted run ({name})')
    wall = time.perf_counter() - start

    losses = {name: train_losses(path) for name, path in dirs.items()}
    steps = list(range(1, shape.iters + 1))
    missing = {name: [s for s in steps if s not in got] for name, got in losses.items()}
    if any(missing.values()):
        raise RuntimeError(f'no logged loss for steps {missing} (see {work}/*.log)')
    resumed_from = max(s for s in range(0, shape.kill_after + 1, shape.ckpt_every))
    redone = steps[resumed_from:]
    reference = losses['clean']
    diff = {name: max(abs(losses[name][s] - reference[s]) for s in redone) for name in dirs}
    equal = all(losses['killed'][s] == reference[s] for s in redone)
    ok = equal or (device != 'cpu' and diff['killed'] <= 2 * diff['rerun'])
    return [dict(case='resume', iters=shape.iters, killed_after=shape.kill_after,
                 resumed_from=resumed_from, batch=shape.batch, grid=list(shape.grid),
                 codebook_size=shape.codebook_size, device=device, losses_equal=equal,
                 resumed_max_abs_diff=diff['killed'], rerun_max_abs_diff=diff['rerun'],
                 no_rng_restore_max_abs_diff=diff['control'],
                 rng_sensitive=diff['control'] > diff['killed'],
                 first_loss=reference[1], last_loss=reference[shape.iters], ok=ok,
                 seconds=round(wall, 2))]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def fsdp_check(repo: Path, work: Path, shape: TrainShape, device: str) -> List[dict]:
    """One FSDP training step (FlexibleRunner, ``configs/_base_/strategies/fsdp.py``, world
    size 1, ``--launcher pytorch``), its checkpoint, then ``--resume`` from it for a second
    step; the saved full state dict must load into a plain (unwrapped) model."""
    import torch
    from bigfix_mm.apis import init_model
    data = write_synthetic_tokens(work / 'tokens', shape)
    run_dir = work / 'fsdp'
    one = dict(shape.__dict__, iters=1, ckpt_every=1)
    config = train_config(repo, work / 'cfg' / 'fsdp.py', run_dir, data, TrainShape(**one),
                          device, fsdp=True)
    env = dict(os.environ, MASTER_ADDR='127.0.0.1', MASTER_PORT=str(_free_port()), RANK='0',
               LOCAL_RANK='0', WORLD_SIZE='1', LOCAL_WORLD_SIZE='1')
    timings = {}
    for step, extra in ((1, []), (2, ['--resume', '--cfg-options', 'train_cfg.max_iters=2'])):
        log = work / f'fsdp_step{step}.log'
        start = time.perf_counter()
        finish(start_train(repo, config, run_dir, log, ['--launcher', 'pytorch', *extra], env), log,
               f'FSDP step {step}')
        timings[step] = round(time.perf_counter() - start, 2)
    losses = train_losses(run_dir)
    ckpt = run_dir / 'iter_2.pth'
    resumed = 'resumed epoch: 0, iter: 1' in (work / 'fsdp_step2.log').read_text()
    if not (resumed and ckpt.is_file()):  # resuming loads the model and optimizer state
        raise RuntimeError(f'the second FSDP run did not resume from iter_1.pth (see {work})')
    model = init_model(str(config), str(ckpt), use_ema=False)  # as tools/sample.py loads it
    params = sum(p.numel() for p in model.parameters())
    return [dict(case='fsdp', world_size=1, params_m=round(params / 1e6, 2), batch=shape.batch,
                 loss_step1=losses.get(1), loss_step2=losses.get(2),
                 checkpoint_gib=round(ckpt.stat().st_size / 2**30, 3),
                 resumed_with_optimizer_state=resumed, device=device,
                 loaded_into_plain_model=True,
                 seconds_step1=timings[1], seconds_resume_step2=timings[2],
                 ok=losses.get(1) is not None and losses.get(2) is not None
                 and bool(torch.isfinite(torch.tensor([losses[1], losses[2]])).all()))]


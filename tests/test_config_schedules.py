"""Learning-rate schedules of the configs, stepped on a dummy optimizer."""
import math

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import PARAM_SCHEDULERS

from tests.conftest import REPO

PEAK = 1e-4


def lrs_at(cfg: Config, iters, scale: int = 1) -> dict:
    """Learning rate at the given iterations, the config's begin / end divided by ``scale``."""
    opt = torch.optim.AdamW([torch.nn.Parameter(torch.zeros(1))], lr=cfg.optim_wrapper.optimizer.lr)
    schedulers = []
    for sched in cfg.param_scheduler:
        sched = dict(sched)
        for key in ('begin', 'end', 'T_max'):
            if key in sched:
                assert sched[key] % scale == 0
                sched[key] //= scale
        schedulers.append(PARAM_SCHEDULERS.build(dict(sched, optimizer=opt)))
    out, wanted = {}, set(iters)
    for it in range(max(iters) + 1):
        if it in wanted:
            out[it] = opt.param_groups[0]['lr']
        opt.step()
        for s in schedulers:
            s.step()
    return out


def test_imagenet_schedule_holds_the_peak_then_decays_over_the_last_tenth():
    cfg = Config.fromfile(str(REPO / 'configs' / 'bigfix' / 'bigfix_imagenet256.py'))
    max_iters = cfg.train_cfg.max_iters
    assert cfg.param_scheduler[1].begin == 0.9 * max_iters and cfg.param_scheduler[1].end == max_iters
    scale = 100  # 1M iterations -> 10k: the same curve, 100x fewer steps
    n, warm = max_iters // scale, cfg.param_scheduler[0].end // scale
    lr = lrs_at(cfg, [0, warm, n // 2, int(0.9 * n), int(0.95 * n), n - 1, n], scale)
    assert lr[0] == pytest.approx(PEAK * 1e-3)
    assert lr[warm] == pytest.approx(PEAK) and lr[n // 2] == pytest.approx(PEAK)
    assert lr[int(0.9 * n)] == pytest.approx(PEAK)  # still the peak when the decay starts
    assert lr[int(0.95 * n)] == pytest.approx(PEAK * (0.01 + 0.99 * 0.5), rel=1e-3)  # MMEngine steps the cosine recursively
    assert lr[n] == pytest.approx(PEAK * 0.01, rel=1e-3)  # MMEngine steps the cosine recursively


def test_plain_cosine_is_kept_as_the_alternative():
    cfg = Config.fromfile(str(REPO / 'configs' / '_base_' / 'schedules' / 'adamw_warmup_cosine.py'))
    scale = 100
    n, warm = cfg.max_iters // scale, cfg.warmup_iters // scale
    mid = warm + (n - warm) // 2
    lr = lrs_at(cfg, [warm, mid, n], scale)
    assert lr[warm] == pytest.approx(PEAK)
    assert lr[mid] == pytest.approx(PEAK * (0.01 + 0.99 * 0.5 * (1 + math.cos(math.pi * 0.5))),
                                    rel=1e-3)  # MMEngine steps the cosine recursively
    assert lr[n] == pytest.approx(PEAK * 0.01, rel=1e-3)  # MMEngine steps the cosine recursively


def test_paper_configs_sample_like_the_authors_and_use_dropout():
    big = Config.fromfile(str(REPO / 'configs' / 'bigfix' / 'bigfix_imagenet256.py'))
    assert big.model.transformer.dropout == 0.1 and big.model.sampler.fix == 'all'
    tune = Config.fromfile(str(REPO / 'configs' / 'bigfix' / 'bigfix_imagenet256_finetune_halton.py'))
    assert tune.load_from and tune.model.injection.injection_prob == 0.2
    assert tune.param_scheduler[1].begin == 0.9 * tune.train_cfg.max_iters

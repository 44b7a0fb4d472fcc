"""The validation logged during training equals tools/test.py on the same checkpoint."""
import json
import subprocess
import sys
from pathlib import Path
from typing import Dict

import pytest

from tests.conftest import REPO
from tests.tools.test_dist_train import run_tool, subprocess_env
from tests.tools.test_train import small_cfg

METRICS = ('token/loss', 'token/masked_acc', 'token/injected_acc', 'token/clean_acc')


def logged_validations(work: Path) -> Dict[int, dict]:
    """step -> the validation record of the training run's ``vis_data/scalars.json``."""
    scalars = next(work.glob('*/vis_data/scalars.json'))
    records = (json.loads(line) for line in scalars.read_text().splitlines())
    return {r['step']: r for r in records if 'token/loss' in r}


def metrics_of_test_run(work: Path) -> dict:
    """The metrics tools/test.py logged in ``work`` (its ``<timestamp>/<timestamp>.json``)."""
    (log, ) = [p for p in work.glob('*/*.json') if p.stem == p.parent.name]
    return json.loads(log.read_text().splitlines()[-1])


@pytest.mark.slow  # the mechanism: tests/engine/test_log_processor.py (default suite)
def test_validation_during_training_equals_test_of_each_checkpoint(tmp_path):
    """Two validations (iterations 2 and 4; data-loader workers persist between them,
    the sampler hook samples after each), then tools/test.py on both checkpoints."""
    work = tmp_path / 'train'
    cfg = small_cfg(work, max_iters=4)
    cfg.default_hooks.checkpoint.max_keep_ckpts = -1
    for key in ('val_dataloader', 'test_dataloader'):
        cfg[key].update(num_workers=1, persistent_workers=True)
    cfg.custom_hooks[0].update(num_samples=4)
    config = tmp_path / 'cfg.py'
    cfg.dump(str(config))
    env = subprocess_env()

    train = run_tool([sys.executable, str(REPO / 'tools' / 'train.py'), str(config),
                      '--work-dir', str(work)], env)
    assert train.returncode == 0, train.stderr[-4000:]
    logged = logged_validations(work)
    assert sorted(logged) == [2, 4]

    tests = {step: subprocess.Popen(
        [sys.executable, str(REPO / 'tools' / 'test.py'), str(config), str(work / f'iter_{step}.pth'),
         '--work-dir', str(tmp_path / f'test_{step}')], env=env, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE, text=True) for step in logged}
    for step, proc in tests.items():
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err[-4000:]

    for step in logged:
        tested = metrics_of_test_run(tmp_path / f'test_{step}')
        for key in METRICS:
            assert logged[step][key] == pytest.approx(tested[key], rel=1e-6, abs=1e-9), \
                (step, key, logged[step][key], tested[key])
    # the checks above compare numbers that change between validations
    assert logged[2]['token/loss'] != logged[4]['token/loss']

"""A twin's finished training is reused exactly when its training settings are unchanged."""
import copy

from mmengine.config import Config

from projects.fixing_study.cells import training_config
from projects.fixing_study.training import training_settings

from tests.conftest import CIFAR_QUICK


def _twin(p: float = 0.2) -> Config:
    return training_config(Config.fromfile(CIFAR_QUICK), 'unused', p, iters=40, seed=0)


def test_settings_ignore_logging_checkpoints_validation_and_side_sampling():
    cfg = _twin()
    other = copy.deepcopy(cfg)
    other.default_hooks.logger.interval = 7
    other.default_hooks.timer = dict(type='IterTimerHook')
    other.default_hooks.checkpoint.interval = 3
    other.val_dataloader.batch_size = 5
    other.custom_hooks = [dict(type='FixingSamplerHook', interval=5, num_samples=4)]
    other.work_dir = '/elsewhere'
    assert training_settings(other.pretty_text) == training_settings(cfg.pretty_text)


def test_settings_see_injection_optimiser_data_and_weight_averaging():
    base = training_settings(_twin().pretty_text)
    assert training_settings(_twin(p=0.0).pretty_text) != base
    for change in (lambda c: c.optim_wrapper.optimizer.update(lr=3e-4),
                   lambda c: c.train_dataloader.update(batch_size=8),
                   lambda c: c.randomness.update(seed=1),
                   lambda c: c.custom_hooks.append(dict(type='EMAHook', momentum=1e-3))):
        cfg = _twin()
        change(cfg)
        assert training_settings(cfg.pretty_text) != base


def test_settings_survive_the_dumped_config(tmp_path):
    """A stored copy loaded and dumped again (another formatting of the same config)
    gives the same settings."""
    cfg = _twin()
    path = tmp_path / 'train.py'
    path.write_text(cfg.pretty_text)
    again = Config.fromfile(str(path)).pretty_text
    assert training_settings(again) == training_settings(cfg.pretty_text)

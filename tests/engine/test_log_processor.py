"""EvalLogProcessor units (the end-to-end check is tests/tools/test_val_matches_test.py)."""
from types import SimpleNamespace

import pytest
from mmengine.logging import MessageHub
from mmengine.runner import LogProcessor

from bigfix_mm.registry import LOG_PROCESSORS


def two_validations(name: str) -> SimpleNamespace:
    """A runner whose message hub holds two training losses and two validations."""
    hub = MessageHub.get_instance(name)
    for loss in (3.0, 1.0):
        hub.update_scalar('train/loss', loss)
    for loss, acc in ((5.0, 0.25), (4.0, 0.5)):  # one value per validation
        for _ in range(2):  # two batches each
            hub.update_scalar('val/time', 0.1 if loss == 5.0 else 0.3)
        hub.update_scalar('val/token/loss', loss)
        hub.update_scalar('val/token/masked_acc', acc)
    return SimpleNamespace(message_hub=hub, val_loop=SimpleNamespace(dataloader=range(2)),
                           _train_loop=None)


@pytest.mark.parametrize('hierarchy', [False, True])
def test_validation_metrics_are_the_latest_values_training_loss_stays_smoothed(hierarchy):
    runner = two_validations(f'eval_log_processor_{hierarchy}')
    prefix = 'val/' if hierarchy else ''
    kwargs = dict(window_size=50, by_epoch=False, log_with_hierarchy=hierarchy)
    proc = LOG_PROCESSORS.build(dict(type='EvalLogProcessor', **kwargs))
    tag, log_str = proc.get_log_after_epoch(runner, 2, 'val')
    assert tag[f'{prefix}token/loss'] == 4.0 and 'token/loss: 4.0000' in log_str
    assert tag[f'{prefix}token/masked_acc'] == 0.5
    plain = LogProcessor(**kwargs).get_log_after_epoch(runner, 2, 'val')[0]
    assert plain[f'{prefix}token/loss'] == 4.5  # MMEngine's: the mean over both validations
    assert tag[f'{prefix}time'] == plain[f'{prefix}time']  # timings: MMEngine's epoch mean
    assert proc._collect_scalars([], runner, 'train')['loss'] == 2.0  # moving average


def test_custom_cfg_entries_keep_their_statistic():
    runner = two_validations('eval_log_processor_custom')
    proc = LOG_PROCESSORS.build(dict(
        type='EvalLogProcessor', window_size=50, by_epoch=False,
        custom_cfg=[dict(data_src='token/loss', log_name='mean_loss', method_name='mean',
                         window_size=2)]))
    tag, _ = proc.get_log_after_epoch(runner, 2, 'val')
    assert tag['token/loss'] == 4.0 and tag['mean_loss'] == 4.5

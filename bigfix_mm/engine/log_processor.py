"""MMEngine's log processor, with evaluation results logged as computed."""
from typing import List

from mmengine.runner import LogProcessor

from bigfix_mm.registry import LOG_PROCESSORS


@LOG_PROCESSORS.register_module()
class EvalLogProcessor(LogProcessor):
    """``LogProcessor`` that logs each validation / test metric as that evaluation computed it.

    MMEngine's processor reports every scalar whose name matches ``mean_pattern``
    (any name holding ``loss``) as the mean of its last ``window_size`` values in
    the message hub. That is the intended moving average for training losses, but
    validation metrics collect one value per validation in the same history, so
    the n-th logged validation loss (``token/loss``) was the mean of the first n
    validations, while accuracies were logged as they are. Here, in ``val`` and
    ``test`` mode, every scalar but the per-iteration timings (``time``,
    ``data_time``) and the entries of ``custom_cfg`` is its latest value: the
    logged validation of a checkpoint equals ``tools/test.py`` on it. Training
    logs are unchanged.
    """

    timing_keys = ('time', 'data_time')

    def _collect_scalars(self, custom_cfg: List[dict], runner, mode: str,
                         reserve_prefix: bool = False) -> dict:
        tag = super()._collect_scalars(custom_cfg, runner, mode, reserve_prefix)
        if mode == 'train':
            return tag
        custom = {cfg.get('log_name', cfg['data_src']) for cfg in custom_cfg}
        history = runner.message_hub.log_scalars
        for key in tag:
            name = self._remove_prefix(key, f'{mode}/')
            source = history.get(f'{mode}/{name}')
            if source is not None and name not in self.timing_keys and name not in custom:
                tag[key] = source.current()
        return tag

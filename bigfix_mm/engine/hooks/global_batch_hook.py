"""Log the global batch of a run and compare it with the one the config states."""
import logging

from mmengine.hooks import Hook

from bigfix_mm.registry import HOOKS


def global_batch(world_size: int, per_process: int, accumulative_counts: int = 1) -> int:
    """Samples per optimizer update: processes x per-process batch x accumulation steps."""
    return int(world_size) * int(per_process) * int(accumulative_counts)


@HOOKS.register_module()
class GlobalBatchHook(Hook):
    """At the start of training, log ``global batch = world x batch x accumulation``.

    The config states its intended global batch in MMEngine's own field
    ``auto_scale_lr = dict(enable=False, base_batch_size=N)``. When the actual
    global batch differs, the hook warns (or raises with ``strict=True``) and
    names the fixes: adjust ``optim_wrapper.accumulative_counts`` or
    ``train_dataloader.batch_size``, or set ``auto_scale_lr.enable=True``
    (MMEngine then scales the learning rate linearly by world x batch; it does
    not count accumulation steps).

    The value is also stored as ``message_hub`` info ``global_batch_size``.
    """

    priority = 'VERY_LOW'

    def __init__(self, strict: bool = False):
        self.strict = strict

    def before_train(self, runner) -> None:
        loader = runner.train_dataloader
        per_process = loader.batch_size or getattr(loader.batch_sampler, 'batch_size', 1)
        accum = getattr(runner.optim_wrapper, '_accumulative_counts', 1)
        world = runner.world_size
        total = global_batch(world, per_process, accum)
        runner.message_hub.update_info('global_batch_size', total)
        runner.logger.info(f'global batch {total} = {world} process(es) x {per_process} per '
                           f'process x {accum} accumulation step(s)')
        scale = runner.cfg.get('auto_scale_lr') or {}
        stated = scale.get('base_batch_size')
        if stated is None or int(stated) == total:
            return
        if scale.get('enable', False):
            runner.logger.info(f'global batch {total} differs from auto_scale_lr.base_batch_size='
                               f'{stated}; MMEngine scaled the learning rate (by '
                               f'{world}x{per_process}/{stated}, accumulation not counted).')
            return
        msg = (f'global batch {total} ({world} x {per_process} x {accum}) differs from the '
               f'config\'s auto_scale_lr.base_batch_size={stated}. Set '
               f'optim_wrapper.accumulative_counts={max(1, int(stated) // (world * per_process))} '
               'or train_dataloader.batch_size to match, or auto_scale_lr.enable=True to scale '
               'the learning rate instead.')
        if self.strict:
            raise ValueError(msg)
        runner.logger.log(logging.WARNING, msg)

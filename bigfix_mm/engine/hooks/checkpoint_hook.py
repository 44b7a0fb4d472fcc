"""MMEngine's ``CheckpointHook``, deleting an old checkpoint only after its successor is on disk.

MMEngine 0.10.7 removes the oldest kept checkpoint before it writes the next one, so
with ``max_keep_ckpts=1`` a save that fails (a full disk) leaves no checkpoint at all.
This hook, registered under MMEngine's name in MMagic's registry (so every
``type='CheckpointHook'`` of a ``default_scope = 'mmagic'`` config builds it), writes
first and deletes after; ``last_checkpoint`` is written atomically. A save that runs
out of space stops the run with a :class:`~bigfix_mm.errors.DiskFullError` naming the
file being written, the free space and the newest complete checkpoint, which is intact.
Everything else (arguments, ``keep_ckpt_ids`` in the message hub, best checkpoints,
resuming) is MMEngine's.
"""
import os.path as osp

from mmengine.dist import is_main_process
from mmengine.hooks import CheckpointHook as MMEngineCheckpointHook

from bigfix_mm.errors import DiskFullError
from bigfix_mm.registry import HOOKS
from bigfix_mm.core.files import disk_full_message, is_disk_full, write_text_atomic


@HOOKS.register_module(name='CheckpointHook')
class CheckpointHook(MMEngineCheckpointHook):
    """``mmengine.hooks.CheckpointHook`` that saves before it deletes (same arguments)."""

    def _save_checkpoint_with_step(self, runner, step, meta) -> None:
        outdated = None
        if self.max_keep_ckpts > 0 and not (self.keep_ckpt_ids and
                                            self.keep_ckpt_ids[-1] == step):
            if len(self.keep_ckpt_ids) == self.max_keep_ckpts:
                outdated = self.keep_ckpt_ids.popleft()
            self.keep_ckpt_ids.append(step)  # the checkpoint records itself as kept
            runner.message_hub.update_info('keep_ckpt_ids', list(self.keep_ckpt_ids))
        ckpt_filename = self.filename_tmpl.format(step)
        self.last_ckpt = self.file_backend.join_path(self.out_dir, ckpt_filename)
        runner.message_hub.update_info('last_ckpt', self.last_ckpt)
        try:
            runner.save_checkpoint(self.out_dir, ckpt_filename, self.file_client_args,
                                   save_optimizer=self.save_optimizer,
                                   save_param_scheduler=self.save_param_scheduler, meta=meta,
                                   by_epoch=self.by_epoch, backend_args=self.backend_args,
                                   **self.args)
            if is_main_process():
                write_text_atomic(osp.join(runner.work_dir, 'last_checkpoint'), self.last_ckpt)
        except OSError as err:
            if is_disk_full(err) or isinstance(err, DiskFullError):
                raise DiskFullError(self._disk_full_message(runner)) from err
            raise
        if outdated is not None and is_main_process():
            path = self.file_backend.join_path(self.out_dir, self.filename_tmpl.format(outdated))
            if self.file_backend.isfile(path):
                self.file_backend.remove(path)
            elif self.file_backend.isdir(path):  # checkpoints saved by DeepSpeed are folders
                self.file_backend.rmtree(path)

    def _disk_full_message(self, runner) -> str:
        from bigfix_mm.core.checkpoint import find_resume_checkpoint
        try:
            intact = find_resume_checkpoint(self.out_dir)
        except Exception:  # noqa: BLE001  (none loads: say so below)
            intact = None
        kept = (f'The newest complete checkpoint, {intact}, is intact (an old checkpoint is '
                'deleted only after the next one is written).' if intact else
                'No complete checkpoint of this run is on disk yet.')
        return (f'{disk_full_message(self.last_ckpt)} {kept} Free space (or point --work-dir '
                f'at a larger disk), then continue with tools/train.py CONFIG --work-dir '
                f'{runner.work_dir} --resume.')

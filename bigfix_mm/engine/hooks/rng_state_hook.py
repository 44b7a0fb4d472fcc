"""Random-number streams that survive a resume and ignore validation."""
import logging
import random
from typing import Dict, List, Optional, Tuple

import numpy as np
import torch
from mmengine.dist import all_gather_object, get_rank, get_world_size
from mmengine.hooks import CheckpointHook, Hook
from mmengine.logging import print_log

from bigfix_mm.registry import HOOKS


def get_rng_state() -> dict:
    """This process's python / numpy / torch (CPU and CUDA) generator states,
    as plain ints and tensors (loadable with ``weights_only=True``)."""
    name, keys, pos, has_gauss, gauss = np.random.get_state()
    state = dict(python=random.getstate(),
                 numpy=(name, torch.from_numpy(keys.astype(np.int64)), int(pos), int(has_gauss),
                        float(gauss)),
                 torch=torch.get_rng_state())
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state['cuda'] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    """Inverse of :func:`get_rng_state`.

    MMEngine's resume loads checkpoints with ``map_location`` set to the
    current device, so on a GPU the saved tensors arrive as CUDA tensors, which
    ``Tensor.numpy``, ``torch.set_rng_state`` and ``torch.cuda.set_rng_state``
    reject: every state is restored from a CPU copy. CUDA states of devices this
    process does not see are dropped with a warning (see :func:`_set_cuda_states`).
    """
    version, internal, gauss = state['python']
    random.setstate((version, tuple(internal), gauss))
    name, keys, pos, has_gauss, gauss = state['numpy']
    np.random.set_state((name, keys.cpu().numpy().astype(np.uint32), pos, has_gauss, gauss))
    torch.set_rng_state(state['torch'].cpu())
    if state.get('cuda') is not None:
        _set_cuda_states([s.cpu() for s in state['cuda']])


def _set_cuda_states(states: List[torch.Tensor]) -> None:
    """Restore the CUDA generators of the devices that exist; warn about the rest.

    A resume may see fewer devices than the saving process did (another node,
    ``CUDA_VISIBLE_DEVICES``): torch would fail (lazily, at CUDA initialisation)
    on the missing indices, so only the first ``device_count()`` states are set.
    """
    available = torch.cuda.device_count() if torch.cuda.is_available() else 0
    if len(states) > available:
        print_log(f'RNGStateHook: the checkpoint holds CUDA generator states of {len(states)} '
                  f'device(s) but this process sees {available}; restored the first '
                  f'{available}, the others are dropped (their random streams start fresh).',
                  logger='current', level=logging.WARNING)
    for index, device_state in enumerate(states[:available]):
        torch.cuda.set_rng_state(device_state, index)


class _RestoreBeforeNext:
    """Iterator proxy: after ``skip`` batches (MMEngine's resume fast-forward),
    restore the RNG state, then hand the loop its own iterator back."""

    def __init__(self, loop, skip: int, state: dict):
        self.loop, self.inner, self.skip, self.state = loop, loop.dataloader_iterator, skip, state

    def __iter__(self):
        return self

    def __next__(self):
        if self.skip > 0:
            self.skip -= 1
            return next(self.inner)
        set_rng_state(self.state)
        self.loop.dataloader_iterator = self.inner
        return next(self.inner)


@HOOKS.register_module()
class RNGStateHook(Hook):
    """Make ``--resume`` continue the interrupted run's random streams.

    MMEngine restores weights, optimizer, schedulers and the sampler position
    (it fast-forwards the dataloader), but not the generators that draw label
    dropout, token injection (``RandomTokenInjection`` in the main process)
    or flips. This hook

    - stores every rank's python / numpy / torch / CUDA generator states in
      each checkpoint (``checkpoint['rng_states']``, one entry per rank). The
      states are gathered in ``after_train_iter`` of the iterations the
      ``CheckpointHook`` saves at (right before it, priority LOW), because
      ``Runner.save_checkpoint`` runs on rank 0 only and must not communicate;
    - on resume, restores this rank's states right before the first new batch
      is fetched, i.e. after MMEngine's fast-forward (which itself runs the
      pipeline when ``num_workers=0``; loader workers are reseeded by MMEngine
      and replay their own streams during the fast-forward);
    - makes validation neutral: states are saved at ``before_val`` and put
      back at ``after_val``, so training draws do not depend on when (or
      whether) validation ran.

    With fixed seeds the losses after a resume then equal those of an
    uninterrupted run (same world size and ``num_workers``).
    """

    priority = 'LOW'  # after every other after_train_iter hook but the CheckpointHook

    def __init__(self, neutral_validation: bool = True):
        self.neutral_validation = neutral_validation
        self._pending: Optional[dict] = None
        self._pending_iter: Optional[int] = None
        self._val_state: Optional[dict] = None
        self._gathered: Optional[Tuple[int, List[dict]]] = None

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        if _checkpoint_due(runner):  # the same on every rank: everyone joins the gather
            self._gathered = (runner.iter + 1, all_gather_object(get_rng_state()))

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        step = checkpoint.get('meta', {}).get('iter')
        if self._gathered is not None and self._gathered[0] == step:
            checkpoint['rng_states'] = self._gathered[1]
        elif get_world_size() == 1:
            checkpoint['rng_states'] = [get_rng_state()]

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        states: Optional[List[Dict]] = checkpoint.get('rng_states')
        if not getattr(runner, '_resume', False) or states is None:
            return
        if len(states) != get_world_size():
            print_log(f'RNGStateHook: checkpoint holds RNG states of {len(states)} ranks but the '
                      f'run has {get_world_size()}; random streams start fresh.',
                      logger='current', level=logging.WARNING)
            return
        self._pending = states[get_rank()]
        self._pending_iter = int(checkpoint.get('meta', {}).get('iter', -1))

    def before_train(self, runner) -> None:
        if self._pending is None:
            return
        loop = runner.train_loop
        if not hasattr(loop, 'dataloader_iterator') or loop.iter != self._pending_iter:
            set_rng_state(self._pending)  # epoch-based loops: no fast-forward to wait for
        else:
            loop.dataloader_iterator = _RestoreBeforeNext(loop, loop.iter, self._pending)
        self._pending = None

    def before_val(self, runner) -> None:
        if self.neutral_validation:
            self._val_state = get_rng_state()

    def after_val(self, runner) -> None:
        if self._val_state is not None:
            set_rng_state(self._val_state)
            self._val_state = None


def _checkpoint_due(runner) -> bool:
    """Whether a ``CheckpointHook`` saves after this training iteration (its own rule)."""
    for hook in runner.hooks:
        if isinstance(hook, CheckpointHook) and not hook.by_epoch:
            if hook.every_n_train_iters(runner, hook.interval, hook.save_begin) or \
                    (hook.save_last and hook.is_last_train_iter(runner)):
                return True
    return False

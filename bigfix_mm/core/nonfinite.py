"""One guard against non-finite losses and gradients for every training path.

``BIGFix.train_step`` (single process) and the guarded DDP / FSDP wrappers of
:mod:`bigfix_mm.engine.model_wrappers` update through :func:`guarded_update`. It
checks the loss before the backward pass and the total gradient norm before the
optimizer step (a finite loss can still give inf / NaN gradients, e.g. bf16
without a loss scaler); both decisions are all-reduced, so every rank raises or
skips together (a rank that raised alone would leave the others waiting in the
gradient all-reduce until the process-group timeout). With ``'skip'``, more than
``max_nonfinite_skips`` skips in a row stop the run with their history.

Wrappers that call ``model.parse_losses`` themselves (MMEngine's own DDP / FSDP /
DeepSpeed wrappers) still get the collective loss check through
:func:`check_parsed_loss`, which can only raise.
"""
import math
from contextlib import contextmanager
from typing import Callable, Dict, Iterator, List, Optional, Tuple

import torch
import torch.distributed as torch_dist
from mmengine.logging import MessageHub
from mmengine.optim import OptimWrapper

from bigfix_mm.errors import InputError

class NonFiniteError(InputError, FloatingPointError):
    """A loss or gradient norm is inf / NaN: the settings (learning rate, precision,
    clipping) make the run diverge; the message names the values and the fixes."""


_GUARD_FLAG = '_bigfix_nonfinite_guarded'
_HISTORY = '_bigfix_nonfinite_history'

# (max_norm, norm_type) -> total gradient norm of the whole model, after clipping the
# gradients to max_norm (math.inf: measure only). FSDP passes its own ``clip_grad_norm_``.
GradNormFn = Callable[[float, float], torch.Tensor]


def all_ranks_finite(value: torch.Tensor) -> bool:
    """True when ``value`` is finite on every rank (one scalar all-reduce when distributed)."""
    finite = torch.isfinite(value.detach()).all().to(torch.float32).reshape(1)
    if torch_dist.is_available() and torch_dist.is_initialized() and \
            torch_dist.get_world_size() > 1:
        torch_dist.all_reduce(finite, op=torch_dist.ReduceOp.MIN)
    return bool(finite.item() > 0.5)


def nonfinite_message(loss: torch.Tensor, log_vars: Dict[str, torch.Tensor],
                      skip_hint: bool) -> str:
    values = {k: round(float(v.detach()), 6) for k, v in log_vars.items()}
    msg = (f'non-finite loss on at least one rank (this rank: loss={float(loss.detach())}, '
           f'{values}). '
           'Lower the learning rate, enable or tighten optim_wrapper.clip_grad, or use bf16 '
           'instead of fp16.')
    if skip_hint:
        msg += " Set model.nonfinite_loss='skip' to skip such updates instead of stopping."
    else:
        msg += (" model.nonfinite_loss='skip' needs BIGFix.train_step or the model wrappers "
                "'GuardedDistributedDataParallel' / 'GuardedFullyShardedDataParallel'; this "
                'wrapper calls parse_losses itself, so the run stops instead.')
    return msg


@contextmanager
def _guarded(model: torch.nn.Module) -> Iterator[None]:
    model.__dict__[_GUARD_FLAG] = True
    try:
        yield
    finally:
        model.__dict__.pop(_GUARD_FLAG, None)


def check_parsed_loss(model: torch.nn.Module, loss: torch.Tensor,
                      log_vars: Dict[str, torch.Tensor]) -> Tuple[torch.Tensor, dict]:
    """Called from ``model.parse_losses``: raise on a non-finite loss unless
    :func:`guarded_update` is in charge (it then decides raise / skip itself)."""
    if not model.__dict__.get(_GUARD_FLAG) and model.training and not all_ranks_finite(loss):
        raise NonFiniteError(nonfinite_message(loss, log_vars, skip_hint=False))
    return loss, log_vars


def local_grad_norm(optim_wrapper: OptimWrapper) -> GradNormFn:
    """Total norm over the optimizer's gradients, all on this process (single
    process and DDP, where every rank holds the whole, all-reduced gradient)."""

    def norm(max_norm: float, norm_type: float) -> torch.Tensor:
        params = [p for group in optim_wrapper.optimizer.param_groups for p in group['params']
                  if p.requires_grad and p.grad is not None]
        if not params:
            return torch.zeros(())
        if math.isinf(max_norm):  # measure only
            return torch.nn.utils.get_total_norm([p.grad for p in params], norm_type)
        extra = {k: v for k, v in (optim_wrapper.clip_grad_kwargs or {}).items()
                 if k not in ('max_norm', 'norm_type')}
        return torch.nn.utils.clip_grad_norm_(params, max_norm, norm_type, **extra)

    return norm


def guarded_update(model: torch.nn.Module, losses: dict, optim_wrapper: OptimWrapper,
                   grad_norm: Optional[GradNormFn] = None) -> Dict[str, torch.Tensor]:
    """``parse_losses`` + ``update_params`` honouring ``model.nonfinite_loss``.

    Args:
        model: the unwrapped model (``nonfinite_loss`` is ``'raise'`` or ``'skip'``;
            ``max_nonfinite_skips`` caps consecutive skips).
        losses: the model's loss dict.
        optim_wrapper: MMEngine optimizer wrapper (accumulation, AMP, clipping).
        grad_norm: how to clip / measure the whole model's gradient norm;
            :func:`local_grad_norm` by default, ``FSDP.clip_grad_norm_`` under FSDP.

    Returns:
        ``log_vars``; ``nonfinite_skipped`` = 1 when the micro-batch (non-finite
        loss: gradients accumulated so far are kept) or the update (non-finite
        gradient norm: the window's gradients are dropped) was skipped.
    """
    with _guarded(model):
        loss, log_vars = model.parse_losses(losses)
    if not all_ranks_finite(loss):
        if getattr(model, 'nonfinite_loss', 'raise') != 'skip':
            raise NonFiniteError(nonfinite_message(loss, log_vars, skip_hint=True))
        _record_skip(model, f'loss={float(loss.detach())}')
        log_vars['nonfinite_skipped'] = torch.ones((), device=loss.device)
        return log_vars
    if type(optim_wrapper).step is not OptimWrapper.step and \
            not _is_amp(optim_wrapper):  # an optimizer wrapper with its own step: as it is
        optim_wrapper.update_params(loss)
        return log_vars
    optim_wrapper.backward(optim_wrapper.scale_loss(loss))
    if not optim_wrapper.should_update():
        return log_vars
    norm = _clipped_grad_norm(optim_wrapper, grad_norm or local_grad_norm(optim_wrapper))
    if norm is None or all_ranks_finite(norm):
        with _clipping_done(optim_wrapper):
            optim_wrapper.step()
        optim_wrapper.zero_grad()
        model.__dict__.pop(_HISTORY, None)
        return log_vars
    optim_wrapper.zero_grad()  # the window's gradients hold inf / NaN: drop them
    if getattr(model, 'nonfinite_loss', 'raise') != 'skip':
        raise NonFiniteError(
            f'non-finite gradient norm on at least one rank (this rank: {float(norm)}) with a '
            f'finite loss ({float(loss.detach())}); no weight was changed. Lower the learning '
            'rate, use bf16 instead of fp16, or look for an overflowing layer. Set '
            "model.nonfinite_loss='skip' to skip such updates instead of stopping.")
    _record_skip(model, f'gradient norm={float(norm)} (loss={float(loss.detach())})')
    log_vars['nonfinite_skipped'] = torch.ones((), device=loss.device)
    return log_vars


def _is_amp(optim_wrapper: OptimWrapper) -> bool:
    from mmengine.optim import AmpOptimWrapper
    return type(optim_wrapper).step is AmpOptimWrapper.step


def _clipped_grad_norm(optim_wrapper: OptimWrapper,
                       grad_norm: GradNormFn) -> Optional[torch.Tensor]:
    """Unscale (AMP), clip as ``optim_wrapper.clip_grad`` says, and return the total
    gradient norm; None when a dynamic loss scaler judges overflows itself (it
    skips such steps and lowers its scale)."""
    scaler = getattr(optim_wrapper, 'loss_scaler', None)
    if scaler is not None:
        scaler.unscale_(optim_wrapper.optimizer)
    kwargs = optim_wrapper.clip_grad_kwargs or {}
    by_norm = bool(kwargs) and optim_wrapper.clip_func is torch.nn.utils.clip_grad_norm_
    max_norm = float(kwargs['max_norm']) if by_norm else math.inf
    norm = grad_norm(max_norm, float(kwargs.get('norm_type', 2.0)))
    if kwargs and not by_norm:  # clip_grad=dict(type='value'): elementwise, shard-local
        params = [p for group in optim_wrapper.optimizer.param_groups
                  for p in group['params'] if p.requires_grad and p.grad is not None]
        optim_wrapper.clip_func(params, **kwargs)
    if by_norm:  # what MMEngine's own clipping logs
        optim_wrapper.message_hub.update_scalar(f'train/{optim_wrapper.grad_name}',
                                                float(norm))
    if scaler is not None and scaler.is_enabled():
        return None
    return norm


@contextmanager
def _clipping_done(optim_wrapper: OptimWrapper) -> Iterator[None]:
    """``optim_wrapper.step()`` without its own (per-shard under FSDP) clipping."""
    kwargs = optim_wrapper.clip_grad_kwargs
    optim_wrapper.clip_grad_kwargs = {}
    try:
        yield
    finally:
        optim_wrapper.clip_grad_kwargs = kwargs


def _record_skip(model: torch.nn.Module, what: str) -> None:
    """Remember a skip; raise once more than ``model.max_nonfinite_skips`` follow in a row."""
    history: List[str] = model.__dict__.setdefault(_HISTORY, [])
    done = MessageHub.get_current_instance().get_info('iter')  # RuntimeInfoHook: 0-based
    history.append(f"iteration {done + 1 if isinstance(done, int) else '?'}: {what}")
    cap = getattr(model, 'max_nonfinite_skips', None)  # BIGFix's argument; None: no cap
    if cap is not None and len(history) > cap:
        model.__dict__.pop(_HISTORY, None)
        raise NonFiniteError(
            f'{len(history)} consecutive training steps skipped for non-finite values '
            f'(model.max_nonfinite_skips={cap}); the run is diverging, not hitting a rare bad '
            'batch. Lower the learning rate, tighten optim_wrapper.clip_grad, or resume from an '
            'earlier checkpoint. Skipped steps:\n  ' + '\n  '.join(history))

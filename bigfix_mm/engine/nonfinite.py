"""One guard against non-finite losses for every training path.

``BIGFix.train_step`` (single process) and the guarded DDP / FSDP wrappers of
:mod:`bigfix_mm.engine.model_wrappers` update through :func:`guarded_update`;
the decision is all-reduced, so every rank raises or skips together (a rank
that raised alone would leave the others waiting in the gradient all-reduce
until the process-group timeout). Wrappers that call ``model.parse_losses``
themselves (MMEngine's own DDP / FSDP / DeepSpeed wrappers) still get the
collective check through :func:`check_parsed_loss`, which can only raise.
"""
from contextlib import contextmanager
from typing import Dict, Iterator, Tuple

import torch
import torch.distributed as torch_dist
from mmengine.optim import OptimWrapper

_GUARD_FLAG = '_bigfix_nonfinite_guarded'


def all_ranks_finite(loss: torch.Tensor) -> bool:
    """True when ``loss`` is finite on every rank (one scalar all-reduce when distributed)."""
    finite = torch.isfinite(loss.detach()).all().to(torch.float32).reshape(1)
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
        raise FloatingPointError(nonfinite_message(loss, log_vars, skip_hint=False))
    return loss, log_vars


def guarded_update(model: torch.nn.Module, losses: dict,
                   optim_wrapper: OptimWrapper) -> Dict[str, torch.Tensor]:
    """``parse_losses`` + ``update_params`` honouring ``model.nonfinite_loss``.

    Args:
        model: the unwrapped model (``nonfinite_loss`` is ``'raise'`` or ``'skip'``).
        losses: the model's loss dict.
        optim_wrapper: MMEngine optimizer wrapper (accumulation, AMP, clipping).

    Returns:
        ``log_vars``; ``nonfinite_skipped`` = 1 when the update was skipped.
        A skipped micro-batch leaves the gradients accumulated so far untouched.
    """
    with _guarded(model):
        loss, log_vars = model.parse_losses(losses)
    if all_ranks_finite(loss):
        optim_wrapper.update_params(loss)
        return log_vars
    if getattr(model, 'nonfinite_loss', 'raise') != 'skip':
        raise FloatingPointError(nonfinite_message(loss, log_vars, skip_hint=True))
    log_vars['nonfinite_skipped'] = torch.ones((), device=loss.device)
    return log_vars

"""FSDP for BIGFix: which modules become units, and what a run may use with it.

``configs/_base_/strategies/fsdp.py`` selects :func:`transformer_block_wrap_policy`:
each transformer ``Block`` is one FSDP unit; everything else (the token embedding,
whose weight is also the output head, ``F.linear(x, tok_emb.weight)``; the class and
position embeddings, the registers, the final norm) stays in the root unit, whose parameters are
gathered for the whole forward. A size-based policy would make ``tok_emb`` a unit of
its own, and the tied head would then read a resharded 1-D shard.

:func:`fsdp_problems` lists what cannot run under FSDP, checked with the config
before anything is built (``tools/train.py``):

- ``EMAHook``: FlexibleRunner loads / resumes the checkpoint before ``before_run``,
  where the hook deep-copies the (already sharded) model;
- ``FixingSamplerHook``: samples on rank 0 only, while every FSDP forward needs all ranks;
- norm clipping (``optim_wrapper.clip_grad``) with a model wrapper other than
  ``GuardedFullyShardedDataParallel``: MMEngine 0.10.7's ``OptimWrapper`` clips with
  ``torch.nn.utils.clip_grad_norm_`` over the rank's own shards, i.e. by a per-rank norm
  instead of the full-model norm (``FSDP.clip_grad_norm_``, which the guarded wrapper uses).
"""
from typing import Any, List, Optional

import torch.nn as nn
from mmengine.registry import FUNCTIONS, MODEL_WRAPPERS


# MMEngine's root registry: MMFullyShardedDataParallel resolves auto_wrap_policy there.
@FUNCTIONS.register_module()
def transformer_block_wrap_policy(module: nn.Module, recurse: bool, nonwrapped_numel: int,
                                  **kwargs: Any) -> bool:
    """FSDP auto-wrap policy (torch's callable protocol): wrap each transformer ``Block``.

    Args:
        module: the module FSDP's recursive wrap is looking at.
        recurse: True while descending (always continue), False to decide on ``module``.
        nonwrapped_numel: parameters not yet in a unit (unused: the rule is by class).
    """
    from bigfix_mm.models.editors.bigfix.transformer import Block
    return True if recurse else isinstance(module, Block)


def is_fsdp_config(cfg: Any) -> bool:
    """Whether ``cfg`` trains with MMEngine's ``FSDPStrategy`` (FlexibleRunner)."""
    strategy = cfg.get('strategy') or {}
    kind = strategy.get('type') if isinstance(strategy, dict) else type(strategy).__name__
    kind = kind if isinstance(kind, str) else getattr(kind, '__name__', '')
    return cfg.get('runner_type') is not None and kind == 'FSDPStrategy'


def fsdp_problems(cfg: Any) -> List[str]:
    """What ``cfg`` asks for that does not work under FSDP, each with its fix."""
    if not is_fsdp_config(cfg):
        return []
    problems = []
    from mmengine.hooks import EMAHook
    from bigfix_mm.engine.hooks.fixing_sampler_hook import SAMPLER_HOOK_REFUSED, FixingSamplerHook
    for i, hook in enumerate(cfg.get('custom_hooks') or []):
        cls = _hook_class(hook.get('type') if isinstance(hook, dict) else type(hook))
        if issubclass(cls, EMAHook):
            problems.append(
                f'custom_hooks[{i}] (EMAHook) does not work with FSDPStrategy: FlexibleRunner '
                'loads the checkpoint before the hook copies the model, and the copy would be '
                'of a sharded module. Remove the EMAHook from custom_hooks, or train with DDP '
                '(drop the strategies/fsdp.py fragment).')
        elif issubclass(cls, FixingSamplerHook):
            problems.append(f'custom_hooks[{i}] (FixingSamplerHook) {SAMPLER_HOOK_REFUSED}')
    optim = cfg.get('optim_wrapper') or {}
    clip = optim.get('clip_grad') if isinstance(optim, dict) else None
    wrapper = (cfg.strategy.get('model_wrapper') or {}).get('type', 'MMFullyShardedDataParallel')
    if clip and clip.get('type', 'norm') == 'norm' and not _is_guarded_fsdp(wrapper):
        problems.append(
            f'optim_wrapper.clip_grad={dict(clip)} with strategy.model_wrapper.type='
            f'{_type_name(wrapper)!r}: MMEngine clips each rank\'s shard by its own norm under '
            'FSDP, not by the model\'s. Set strategy.model_wrapper.type='
            "'GuardedFullyShardedDataParallel' (clips with FSDP.clip_grad_norm_), or remove "
            'clip_grad.')
    return problems


def _hook_class(kind: Any) -> type:
    from bigfix_mm.registry import HOOKS  # MMagic's, falling back to MMEngine's
    cls = HOOKS.get(kind) if isinstance(kind, str) else kind
    return cls if isinstance(cls, type) else object


def _type_name(kind: Any) -> Optional[str]:
    return kind if isinstance(kind, str) else getattr(kind, '__name__', None)


def _is_guarded_fsdp(kind: Any) -> bool:
    from bigfix_mm.engine.model_wrappers import GuardedFullyShardedDataParallel
    cls = MODEL_WRAPPERS.get(kind) if isinstance(kind, str) else kind
    return isinstance(cls, type) and issubclass(cls, GuardedFullyShardedDataParallel)

"""The sampler's facts in one place: the registered samplers and their default steps,
the named presets, each fixing preset's no-fixing twin, and the defaults that BIGFix
and :class:`~bigfix_mm.engine.hooks.FixingSamplerHook` read.

A preset is a registered sampler config without ``steps`` / ``cfg_scale``;
:func:`sampler_config` adds those and any other override, :func:`build_sampler`
builds it. Names:

- ``maskgit``: confidence reveal (cosine schedule), never fixes;
- ``halton``: Halton-order reveal, never fixes (the no-fixing twin of the next two);
- ``fix_all``: Halton reveal, re-samples every placed token each step (the
  authors' released behaviour);
- ``fix_low``: Halton reveal, re-samples the 10% least likely placed tokens
  (BIGFix's default here);
- ``maskgit_fix_low``: confidence reveal with ``fix_low``'s fixing (twin: ``maskgit``).
"""
from typing import Dict, Optional

from bigfix_mm.errors import InputValueError
from bigfix_mm.models.editors.bigfix.sampler.token_sampler import DEFAULT_STEPS, TokenSampler
from bigfix_mm.registry import MODELS


@MODELS.register_module()
class MaskGITSampler(TokenSampler):
    """MaskGIT: confidence-based reveal, cosine schedule, annealed Gumbel noise.

    A placed token is never changed. Takes :class:`TokenSampler`'s arguments
    except ``reveal`` and ``fix``.
    """

    def __init__(self, steps: int = DEFAULT_STEPS['MaskGITSampler'], **kwargs):
        super().__init__(steps=steps, reveal='confidence', fix='none', **kwargs)


@MODELS.register_module()
class HaltonSampler(TokenSampler):
    """Halton-MaskGIT: positions revealed along a Halton order; never fixes.

    Takes :class:`TokenSampler`'s arguments except ``reveal`` and ``fix``.
    """

    def __init__(self, steps: int = DEFAULT_STEPS['HaltonSampler'], **kwargs):
        super().__init__(steps=steps, reveal='halton', fix='none', **kwargs)


@MODELS.register_module()
class TokenFixingSampler(TokenSampler):
    """BIGFix: reveal new positions and re-sample placed ones the model now doubts.

    Args:
        reveal: ``'halton'`` or ``'confidence'``.
        fix: ``'low_confidence'`` (default), ``'all'`` (the authors' released
            behaviour) or ``'none'``.
        kwargs: :class:`TokenSampler`'s other arguments (``fix_ratio``, ``fix_window``, ...).
    """

    def __init__(self, steps: int = DEFAULT_STEPS['TokenFixingSampler'], reveal: str = 'halton',
                 fix: str = 'low_confidence', **kwargs):
        super().__init__(steps=steps, reveal=reveal, fix=fix, **kwargs)


SAMPLER_PRESETS: Dict[str, dict] = {
    'maskgit': dict(type='MaskGITSampler'),
    'halton': dict(type='HaltonSampler'),
    'fix_all': dict(type='TokenFixingSampler', reveal='halton', fix='all'),
    'fix_low': dict(type='TokenFixingSampler', reveal='halton', fix='low_confidence',
                    fix_ratio=0.1),
    'maskgit_fix_low': dict(type='TokenFixingSampler', reveal='confidence',
                            fix='low_confidence', fix_ratio=0.1),
}
# Each fixing preset and its no-fixing twin (the same reveal order).
FIXING_TWINS: Dict[str, str] = {'fix_all': 'halton', 'fix_low': 'halton',
                                'maskgit_fix_low': 'maskgit'}
# Overrides that only make sense for a sampler that fixes.
_FIXING_ONLY = ('fix_ratio', 'fix_window')

# BIGFix's sampler without ``model.sampler`` in the config (preset ``fix_low``)
DEFAULT_SAMPLER = dict(type='TokenFixingSampler')
# FixingSamplerHook's pair without ``sampler`` / ``baseline``: the default sampler and
# its no-fixing twin, at preview steps
PREVIEW_STEPS = 8
PREVIEW_SAMPLER = dict(DEFAULT_SAMPLER, steps=PREVIEW_STEPS)
PREVIEW_BASELINE = dict(SAMPLER_PRESETS[FIXING_TWINS['fix_low']], steps=PREVIEW_STEPS)


def no_fixing_twin(sampler_cfg: dict) -> dict:
    """The config of the same sampler without fixing: same reveal, steps, guidance and
    temperatures (a ``TokenFixingSampler`` with ``fix='none'``; other samplers never fix)."""
    if sampler_cfg.get('type') == 'TokenFixingSampler':
        return dict(sampler_cfg, fix='none')
    return dict(sampler_cfg)


def sampler_config(name: str, steps: Optional[int] = None, cfg_scale: Optional[float] = None,
                   **overrides) -> dict:
    """The config of preset ``name`` with ``steps``, ``cfg_scale`` and other
    :class:`~bigfix_mm.models.editors.bigfix.sampler.token_sampler.TokenSampler` arguments overridden
    (None values are left at the preset's / class default). Unknown names and
    overrides a preset cannot take raise :class:`~bigfix_mm.errors.InputValueError`."""
    if name not in SAMPLER_PRESETS:
        raise InputValueError(f'sampler preset {name!r} is not one of {list(SAMPLER_PRESETS)}')
    cfg = dict(SAMPLER_PRESETS[name])
    extra = dict(steps=steps, cfg_scale=cfg_scale, **overrides)
    for key, value in extra.items():
        if value is None:
            continue
        if key in _FIXING_ONLY and 'fix' not in cfg:
            raise InputValueError(f'{key}={value!r} given for preset {name!r}, which never fixes; '
                                  f'use a fixing preset ({sorted(FIXING_TWINS)})')
        if key in ('type', 'reveal', 'fix'):
            raise InputValueError(f'{key} is what preset {name!r} is; pick another preset instead')
        cfg[key] = list(value) if key == 'fix_window' else value
    return cfg


def build_sampler(name: str, steps: Optional[int] = None, cfg_scale: Optional[float] = None,
                  **overrides):
    """Build preset ``name`` (see :func:`sampler_config`)."""
    return MODELS.build(sampler_config(name, steps, cfg_scale, **overrides))

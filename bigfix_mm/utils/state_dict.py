"""The model weights inside an MMEngine checkpoint (EMA or raw), and how a state dict
differs from the layout a model expects."""
from typing import Any, Dict, List, Mapping, Optional, Sequence

import torch


def mmengine_state_dict(ckpt: Mapping[str, Any], use_ema: bool = True
                        ) -> Optional[Dict[str, torch.Tensor]]:
    """Weights of an MMEngine checkpoint; None when ``ckpt`` is not one.

    MMEngine's ``EMAHook`` saves the EMA weights as the checkpoint's
    ``state_dict`` and swaps the raw ones into ``ema_state_dict`` (``module.*``
    keys). So ``use_ema=True`` returns ``state_dict`` and ``use_ema=False`` the raw
    weights (``state_dict`` when the run had no EMA).
    """
    state = ckpt.get('state_dict')
    if not isinstance(state, Mapping):
        return None
    raw = ckpt.get('ema_state_dict')
    if not use_ema and isinstance(raw, Mapping):
        unwrapped = {k[len('module.'):]: v for k, v in raw.items() if k.startswith('module.')}
        if unwrapped:
            return unwrapped
    return dict(state)


def layout_mismatches(state: Mapping[str, Any], expected: Mapping[str, Sequence[int]],
                      found: str = 'file', wanted: str = 'model', shown: int = 5) -> List[str]:
    """How ``state`` (key -> tensor) differs from ``expected`` (key -> shape).

    Returns:
        one line each for shape mismatches, missing keys and unexpected keys (the
        first ``shown`` of each), e.g. ``shape mismatches (1): head.bias: file (7,)
        vs model (16,)``; empty when every key and shape fits.
    """
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    shapes = [f'{k}: {found} {tuple(state[k].shape)} vs {wanted} {tuple(expected[k])}'
              for k in expected if k in state and tuple(state[k].shape) != tuple(expected[k])]
    lines = []
    for title, items, sep in (('shape mismatches', shapes, '; '), ('missing keys', missing, ', '),
                              ('unexpected keys', unexpected, ', ')):
        if items:
            lines.append(f'  {title} ({len(items)}): ' + sep.join(items[:shown]))
    return lines

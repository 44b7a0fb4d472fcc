"""The model weights inside an MMEngine checkpoint, EMA or raw."""
from typing import Any, Dict, Mapping, Optional

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

from typing import Sequence

from bigfix_mm.registry import MODELS
from .base import TokenSampler


@MODELS.register_module()
class TokenFixingSampler(TokenSampler):
    """BIGFix: reveal new positions and re-sample placed ones the model now doubts.

    Args:
        reveal: ``'halton'`` or ``'confidence'``.
        fix: ``'low_confidence'`` (default), ``'all'`` (the authors' released
            behaviour) or ``'none'``.
        fix_ratio / fix_window: see :class:`TokenSampler`.
    """

    def __init__(self,
                 steps: int = 32,
                 reveal: str = 'halton',
                 fix: str = 'low_confidence',
                 fix_ratio: float = 0.1,
                 fix_window: Sequence[float] = (0.0, 1.0),
                 **kwargs):
        super().__init__(steps=steps, reveal=reveal, fix=fix, fix_ratio=fix_ratio,
                         fix_window=fix_window, **kwargs)

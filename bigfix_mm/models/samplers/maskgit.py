from bigfix_mm.registry import MODELS
from .base import TokenSampler


@MODELS.register_module()
class MaskGITSampler(TokenSampler):
    """MaskGIT: confidence-based reveal, cosine schedule, annealed Gumbel noise.

    A placed token is never changed. Takes :class:`TokenSampler`'s arguments
    except ``reveal`` and ``fix``.
    """

    def __init__(self, steps: int = 8, **kwargs):
        super().__init__(steps=steps, reveal='confidence', fix='none', **kwargs)

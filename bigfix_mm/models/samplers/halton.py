from bigfix_mm.registry import MODELS
from .base import TokenSampler


@MODELS.register_module()
class HaltonSampler(TokenSampler):
    """Halton-MaskGIT: positions revealed along a Halton order; never fixes.

    Takes :class:`TokenSampler`'s arguments except ``reveal`` and ``fix``.
    """

    def __init__(self, steps: int = 32, **kwargs):
        super().__init__(steps=steps, reveal='halton', fix='none', **kwargs)

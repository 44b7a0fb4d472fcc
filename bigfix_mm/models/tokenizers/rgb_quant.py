"""A real, cheap tokenizer: average pooling then fixed RGB quantisation."""
import torch
import torch.nn.functional as F

from bigfix_mm.registry import MODELS, with_class_defaults
from bigfix_mm.models.tokenizers.base import BaseTokenizer


@MODELS.register_module()
class RGBQuantTokenizer(BaseTokenizer):
    """Average-pool by ``downsample`` and quantise each channel to ``levels`` values.

    Token id = r * L^2 + g * L + b, so ``codebook_size = levels ** 3``. Decoding
    returns the cell centre colours upsampled by nearest neighbour.

    Args:
        levels: L, quantisation levels per channel (2..64).
        downsample: f, pooling factor; images must be divisible by it.
    """

    @classmethod
    def config_facts(cls, cfg: dict):
        full = with_class_defaults(MODELS, dict(cfg, type=cls.__name__))
        levels = int(full['levels'])
        return (levels**3, int(full['downsample']),
                f'RGBQuantTokenizer(levels={levels}) has {levels}**3 = {levels**3} codes')

    def __init__(self, levels: int = 8, downsample: int = 4):
        super().__init__()
        if not 2 <= levels <= 64:
            raise ValueError(f'levels={levels} must be in [2, 64]')
        if downsample < 1:
            raise ValueError(f'downsample={downsample} must be >= 1')
        self.levels = int(levels)
        self.downsample = int(downsample)
        self.codebook_size = self.levels**3

    def _encode(self, images: torch.Tensor) -> torch.Tensor:
        pooled = F.avg_pool2d(images.float(), self.downsample)  # (B, 3, h, w)
        q = (pooled.clamp(0, 1) * self.levels).long().clamp(max=self.levels - 1)
        return q[:, 0] * self.levels**2 + q[:, 1] * self.levels + q[:, 2]  # (B, h, w)

    def _decode(self, ids: torch.Tensor) -> torch.Tensor:
        r = ids // self.levels**2
        g = (ids // self.levels) % self.levels
        b = ids % self.levels
        rgb = (torch.stack([r, g, b], dim=1).float() + 0.5) / self.levels  # (B, 3, h, w)
        return F.interpolate(rgb, scale_factor=self.downsample, mode='nearest')

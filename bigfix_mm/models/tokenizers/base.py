"""The tokenizer interface every image tokenizer of bigfix_mm implements."""
from typing import Tuple

import torch
from torch import nn


class BaseTokenizer(nn.Module):
    """Maps images to discrete token grids and back.

    Images are float RGB in [0, 1], shape (B, 3, H, W); tokens are (B, h, w)
    int64 ids in [0, codebook_size). Tokenizers are frozen: they never train
    inside BIGFix.

    Subclasses set ``codebook_size`` and ``downsample`` and implement
    :meth:`_encode` / :meth:`_decode`.
    """

    codebook_size: int
    downsample: int

    def grid_size(self, image_size: int | Tuple[int, int]) -> Tuple[int, int]:
        """Token grid (h, w) for an image size; raises if the size does not divide."""
        h, w = (image_size, image_size) if isinstance(image_size, int) else image_size
        if h % self.downsample or w % self.downsample:
            raise ValueError(
                f'image size {h}x{w} is not divisible by the tokenizer downsample factor '
                f'{self.downsample} ({type(self).__name__}): resize or crop the images '
                f'(e.g. to {h // self.downsample * self.downsample}) or choose another tokenizer.')
        return h // self.downsample, w // self.downsample

    @torch.no_grad()
    def encode(self, images: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W) float in [0, 1] -> (B, h, w) int64 token ids."""
        if images.dim() != 4 or images.shape[1] != 3:
            raise ValueError(f'images must be (B, 3, H, W), got {tuple(images.shape)}')
        self.grid_size(tuple(images.shape[-2:]))
        return self._encode(images)

    @torch.no_grad()
    def decode(self, ids: torch.Tensor) -> torch.Tensor:
        """(B, h, w) int64 token ids -> (B, 3, H, W) float in [0, 1]."""
        if ids.dim() != 3:
            raise ValueError(f'token ids must be (B, h, w), got {tuple(ids.shape)}')
        if ids.numel() and (int(ids.min()) < 0 or int(ids.max()) >= self.codebook_size):
            raise ValueError(f'token id out of range [0, codebook_size={self.codebook_size}) '
                             f'in decode: got [{int(ids.min())}, {int(ids.max())}]')
        return self._decode(ids.long()).clamp(0, 1)

    def _encode(self, images: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def _decode(self, ids: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def train(self, mode: bool = True) -> 'BaseTokenizer':
        return super().train(False)  # frozen, always in eval mode

"""The frozen tokenizer every image and video tokenizer of bigfix_mm derives from."""
from typing import Optional, Tuple

import torch
from torch import nn

from bigfix_mm.core.tokens import check_token_range


class FrozenTokenizer(nn.Module):
    """Maps pixels to discrete token ids and back; never trains inside BIGFix.

    Images are float RGB in [0, 1]: (B, 3, H, W) for an image tokenizer, (B, T, 3,
    H, W) clips for a video one (``is_video``). Tokens are int64 ids in [0,
    codebook_size): (B, h, w), or (B, t, h, w) with ``t = T / temporal_downsample``
    and ``(h, w) = (H, W) / downsample``.

    Subclasses set ``codebook_size`` and ``downsample`` (and, for video,
    ``temporal_downsample``) and implement :meth:`_encode` / :meth:`_decode`; one whose
    config states them differently overrides :meth:`config_facts`.
    """

    is_video: bool = False
    codebook_size: int
    downsample: int
    temporal_downsample: int = 1

    @classmethod
    def config_facts(cls, cfg: dict) -> Optional[Tuple[int, int, str]]:
        """(codebook_size, downsample, description) that config ``cfg`` of this class
        gives before anything is built, or None where only the built tokenizer knows.
        Here: ``codebook_size`` and ``downsample`` stated in the config."""
        if 'codebook_size' in cfg and 'downsample' in cfg:
            return (int(cfg['codebook_size']), int(cfg['downsample']),
                    f"{cfg.get('type', cls.__name__)} has {cfg['codebook_size']} codes")
        return None

    def token_grid(self, num_frames: int, image_size: int | Tuple[int, int]) -> Tuple[int, int, int]:
        """(t, h, w) token volume of ``num_frames`` frames; raises if a size does not divide."""
        h, w = (image_size, image_size) if isinstance(image_size, int) else tuple(image_size)
        if num_frames % self.temporal_downsample or h % self.downsample or w % self.downsample:
            raise ValueError(
                f'{num_frames} frame(s) of {h}x{w}: not divisible by the tokenizer factors '
                f'(temporal {self.temporal_downsample}, spatial {self.downsample}) of '
                f'{type(self).__name__}: resize or crop the images (e.g. to '
                f'{h // self.downsample * self.downsample}), change num_frames, or choose '
                'another tokenizer.')
        return (num_frames // self.temporal_downsample, h // self.downsample, w // self.downsample)

    def grid_size(self, image_size: int | Tuple[int, int]) -> Tuple[int, int]:
        """Spatial token grid (h, w) of one image / frame size."""
        return self.token_grid(self.temporal_downsample, image_size)[1:]

    @torch.no_grad()
    def encode(self, pixels: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W) images or (B, T, 3, H, W) clips in [0, 1] -> int64 token ids."""
        dims = 5 if self.is_video else 4
        if pixels.dim() != dims or pixels.shape[-3] != 3:
            raise ValueError(f'{type(self).__name__} encodes {self._pixel_shape()}, got '
                             f'{tuple(pixels.shape)}')
        self.token_grid(pixels.shape[1] if self.is_video else 1, tuple(pixels.shape[-2:]))
        return self._encode(pixels)

    @torch.no_grad()
    def decode(self, ids: torch.Tensor) -> torch.Tensor:
        """(B, h, w) or (B, t, h, w) int64 token ids -> pixels in [0, 1] (see :meth:`encode`)."""
        dims = 4 if self.is_video else 3
        if ids.dim() != dims:
            shape = '(B, t, h, w)' if self.is_video else '(B, h, w)'
            raise ValueError(f'token ids must be {shape}, got {tuple(ids.shape)}')
        check_token_range(ids, self.codebook_size, f'{type(self).__name__}.decode',
                          'Decode ids sampled by a model with this tokenizer\'s codebook.')
        return self._decode(ids.long()).clamp(0, 1)

    def _pixel_shape(self) -> str:
        return '(B, T, 3, H, W) clips' if self.is_video else '(B, 3, H, W) images'

    def _encode(self, pixels: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def _decode(self, ids: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def train(self, mode: bool = True) -> 'FrozenTokenizer':
        return super().train(False)  # frozen, always in eval mode


class BaseTokenizer(FrozenTokenizer):
    """An image tokenizer: (B, 3, H, W) in [0, 1] <-> (B, h, w) int64 ids."""

    is_video = False

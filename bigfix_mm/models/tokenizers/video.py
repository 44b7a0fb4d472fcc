"""Video tokenizers: the interface, and a per-frame wrapper around any image tokenizer."""
from typing import Sequence, Tuple

import torch
from torch import nn

from bigfix_mm.registry import MODELS
from .base import BaseTokenizer


class BaseVideoTokenizer(nn.Module):
    """Maps clips to discrete token volumes and back.

    Clips are float RGB in [0, 1], shape (B, T, 3, H, W); tokens are
    (B, t, h, w) int64 ids in [0, codebook_size) with ``t = T / temporal_downsample``
    and ``(h, w) = (H, W) / downsample``. A spatio-temporal (3D) tokenizer
    implements this interface by setting the three attributes and
    :meth:`_encode` / :meth:`_decode`; :class:`BIGFix` and the video tools then
    use it unchanged (``is_video`` tells them that :meth:`decode` returns clips).
    Tokenizers are frozen.
    """

    is_video = True
    codebook_size: int
    downsample: int
    temporal_downsample: int = 1

    def token_grid(self, num_frames: int, image_size: int | Tuple[int, int]) -> Tuple[int, int, int]:
        """(t, h, w) token volume of a clip; raises if a size does not divide."""
        h, w = (image_size, image_size) if isinstance(image_size, int) else tuple(image_size)
        if num_frames % self.temporal_downsample or h % self.downsample or w % self.downsample:
            raise ValueError(
                f'clip of {num_frames} frames of {h}x{w} does not divide by the tokenizer factors '
                f'(temporal {self.temporal_downsample}, spatial {self.downsample}) of '
                f'{type(self).__name__}: change num_frames or the resize/crop size.')
        return (num_frames // self.temporal_downsample, h // self.downsample, w // self.downsample)

    def grid_size(self, image_size: int | Tuple[int, int]) -> Tuple[int, int]:
        """Spatial token grid (h, w) of one frame size."""
        return self.token_grid(self.temporal_downsample, image_size)[1:]

    @torch.no_grad()
    def encode(self, clips: torch.Tensor) -> torch.Tensor:
        """(B, T, 3, H, W) float in [0, 1] -> (B, t, h, w) int64 token ids."""
        if clips.dim() != 5 or clips.shape[2] != 3:
            raise ValueError(f'clips must be (B, T, 3, H, W), got {tuple(clips.shape)}')
        self.token_grid(clips.shape[1], tuple(clips.shape[-2:]))
        return self._encode(clips)

    @torch.no_grad()
    def decode(self, ids: torch.Tensor) -> torch.Tensor:
        """(B, t, h, w) int64 token ids -> (B, T, 3, H, W) float in [0, 1]."""
        if ids.dim() != 4:
            raise ValueError(f'token ids must be (B, t, h, w), got {tuple(ids.shape)}')
        if ids.numel() and (int(ids.min()) < 0 or int(ids.max()) >= self.codebook_size):
            raise ValueError(f'token id out of range [0, codebook_size={self.codebook_size}) '
                             f'in decode: got [{int(ids.min())}, {int(ids.max())}]')
        return self._decode(ids.long()).clamp(0, 1)

    def _encode(self, clips: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def _decode(self, ids: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def train(self, mode: bool = True) -> 'BaseVideoTokenizer':
        return super().train(False)  # frozen, always in eval mode


@MODELS.register_module()
class PerFrameTokenizer(BaseVideoTokenizer):
    """Tokenize each frame independently with an image tokenizer.

    Args:
        tokenizer: config (or instance) of a :class:`BaseTokenizer`, e.g.
            ``dict(type='VQGANTokenizer', arch='llamagen-vq16', checkpoint=...)``.
        frame_batch: frames encoded / decoded per call (bounds memory for long
            clips); None: all frames of the batch at once.

    Shapes: (B, T, 3, H, W) <-> (B, T, H / f, W / f); ``temporal_downsample = 1``.
    """

    def __init__(self, tokenizer: dict | BaseTokenizer, frame_batch: int | None = None):
        super().__init__()
        self.image_tokenizer = MODELS.build(tokenizer) if isinstance(tokenizer, dict) else tokenizer
        if not hasattr(self.image_tokenizer, 'codebook_size'):
            raise TypeError(f'PerFrameTokenizer.tokenizer must be an image tokenizer, got '
                            f'{type(self.image_tokenizer).__name__}')
        self.codebook_size = int(self.image_tokenizer.codebook_size)
        self.downsample = int(self.image_tokenizer.downsample)
        self.temporal_downsample = 1
        self.frame_batch = frame_batch

    def _chunks(self, x: torch.Tensor) -> Sequence[torch.Tensor]:
        return x.split(self.frame_batch) if self.frame_batch else (x, )

    def _encode(self, clips: torch.Tensor) -> torch.Tensor:
        bsz, frames = clips.shape[:2]
        flat = clips.flatten(0, 1)  # (B * T, 3, H, W)
        ids = torch.cat([self.image_tokenizer.encode(c) for c in self._chunks(flat)])
        return ids.view(bsz, frames, *ids.shape[1:])  # (B, T, h, w)

    def _decode(self, ids: torch.Tensor) -> torch.Tensor:
        bsz, frames = ids.shape[:2]
        flat = ids.flatten(0, 1)  # (B * T, h, w)
        images = torch.cat([self.image_tokenizer.decode(c) for c in self._chunks(flat)])
        return images.view(bsz, frames, *images.shape[1:])  # (B, T, 3, H, W)

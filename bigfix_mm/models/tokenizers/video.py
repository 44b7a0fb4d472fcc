"""Video tokenizers: the interface, and a per-frame wrapper around any image tokenizer."""
from typing import Sequence

import torch

from bigfix_mm.registry import MODELS
from bigfix_mm.models.tokenizers.base import BaseTokenizer, FrozenTokenizer


class BaseVideoTokenizer(FrozenTokenizer):
    """A video tokenizer: (B, T, 3, H, W) clips in [0, 1] <-> (B, t, h, w) int64 ids.

    A spatio-temporal (3D) tokenizer sets ``codebook_size``, ``downsample`` and
    ``temporal_downsample`` and implements :meth:`_encode` / :meth:`_decode`;
    :class:`BIGFix` and the video tools then use it unchanged (``is_video`` tells
    them that :meth:`decode` returns clips).
    """

    is_video = True


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

    @classmethod
    def config_facts(cls, cfg: dict):
        from bigfix_mm.models.tokenizers.facts import tokenizer_facts
        return tokenizer_facts(cfg.get('tokenizer'))

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

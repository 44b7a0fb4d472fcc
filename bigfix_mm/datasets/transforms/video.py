"""Transforms of video clips (``results['frames']``: (T, H, W, 3) uint8 RGB)."""
from typing import Optional, Sequence, Tuple, Union

import numpy as np
import torch
from mmcv.transforms import BaseTransform

from bigfix_mm.registry import TRANSFORMS
from bigfix_mm.datasets.transforms.tokens import build_pipeline_tokenizer


def _pair(size: Union[int, Sequence[int]]) -> Tuple[int, int]:
    h, w = (size, size) if isinstance(size, int) else tuple(int(s) for s in size)
    if h < 1 or w < 1:
        raise ValueError(f'size={size} must be positive')
    return h, w


def resize_crop_frames(frames: np.ndarray, size: Union[int, Sequence[int]],
                       crop: str = 'center', rng=None) -> np.ndarray:
    """Scale so the clip covers ``size`` (H, W), then crop it; same crop for every frame.

    (T, H0, W0, 3) uint8 -> (T, H, W, 3) uint8 (OpenCV, area filter when shrinking).
    """
    import cv2
    out_h, out_w = _pair(size)
    frames = np.asarray(frames, dtype=np.uint8)
    _, h0, w0, _ = frames.shape
    scale = max(out_h / h0, out_w / w0)
    new_h, new_w = max(out_h, round(h0 * scale)), max(out_w, round(w0 * scale))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    if (new_h, new_w) != (h0, w0):
        frames = np.stack([cv2.resize(f, (new_w, new_h), interpolation=interp) for f in frames])
    if crop == 'center':
        top, left = (new_h - out_h) // 2, (new_w - out_w) // 2
    elif crop == 'random':
        randint = rng.integers if rng is not None else np.random.randint
        top, left = int(randint(0, new_h - out_h + 1)), int(randint(0, new_w - out_w + 1))
    else:
        raise ValueError(f"crop={crop!r} must be 'center' or 'random'")
    return np.ascontiguousarray(frames[:, top:top + out_h, left:left + out_w])


@TRANSFORMS.register_module()
class ResizeCropFrames(BaseTransform):
    """Resize (keeping the aspect ratio) and crop every frame of a clip to ``size``.

    Args:
        size: output (H, W), or an int for squares.
        crop: ``'center'`` or ``'random'`` (one crop per clip).

    Reads and writes ``frames`` ((T, H, W, 3) uint8 RGB); sets ``img_shape``.
    """

    def __init__(self, size: Union[int, Sequence[int]] = 128, crop: str = 'center'):
        self.size = _pair(size)
        if crop not in ('center', 'random'):
            raise ValueError(f"ResizeCropFrames: crop={crop!r} must be 'center' or 'random'")
        self.crop = crop

    def transform(self, results: dict) -> dict:
        results['frames'] = resize_crop_frames(results['frames'], self.size, self.crop)
        results['img_shape'] = self.size
        return results


@TRANSFORMS.register_module()
class TokenizeVideo(BaseTransform):
    """Encode ``results['frames']`` into ``results['tokens']`` ((T, h, w) int64).

    Args:
        tokenizer: config of a video tokenizer (e.g. ``PerFrameTokenizer`` around
            ``RGBQuantTokenizer``). Cheap tokenizers only; VQ models belong to
            ``tools/extract_tokens.py``. In a BIGFix config leave it out: it is
            ``model.tokenizer``.
        keep_frames: keep ``frames`` in the results (for real-video metrics).
    """

    def __init__(self, tokenizer: Optional[dict] = None, keep_frames: bool = True):
        self.tokenizer = build_pipeline_tokenizer('TokenizeVideo', tokenizer)
        if not getattr(self.tokenizer, 'is_video', False):
            raise TypeError(f'TokenizeVideo.tokenizer must be a video tokenizer, got '
                            f"{type(self.tokenizer).__name__}: wrap it in dict(type='PerFrameTokenizer', "
                            'tokenizer=...)')
        self.keep_frames = keep_frames

    def transform(self, results: dict) -> dict:
        frames = np.array(results['frames'], dtype=np.uint8)  # (T, H, W, 3), writable copy
        clip = torch.from_numpy(frames).permute(0, 3, 1, 2)[None].float() / 255.0  # (1, T, 3, H, W)
        results['tokens'] = self.tokenizer.encode(clip)[0]  # (t, h, w)
        if not self.keep_frames:
            results.pop('frames')
        return results

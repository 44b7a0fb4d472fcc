"""Video helpers: clips in [0, 1] to uint8 frame grids, MP4 and GIF files."""
from pathlib import Path
from typing import List, Optional, Sequence

import numpy as np
import torch

from bigfix_mm.core.files import atomic_path
from bigfix_mm.visualization.images import to_uint8, upscale


def clips_to_uint8(clips: torch.Tensor) -> np.ndarray:
    """(B, T, 3, H, W) float RGB in [0, 1] -> (B, T, H, W, 3) uint8."""
    if clips.dim() != 5:
        raise ValueError(f'clips must be (B, T, 3, H, W), got {tuple(clips.shape)}')
    bsz, frames = clips.shape[:2]
    arr = to_uint8(clips.flatten(0, 1))  # (B * T, H, W, 3)
    return arr.reshape(bsz, frames, *arr.shape[1:])


def make_video_grid_uint8(clips: torch.Tensor, pad: int = 2,
                          max_frames: Optional[int] = None) -> np.ndarray:
    """One row per clip, one column per frame: (B, T, 3, H, W) -> (H', W', 3) uint8."""
    arr = clips_to_uint8(clips)
    if max_frames is not None:
        arr = arr[:, :max_frames]
    bsz, frames, h, w, _ = arr.shape
    grid = np.full((bsz * (h + pad) + pad, frames * (w + pad) + pad, 3), 255, dtype=np.uint8)
    for b in range(bsz):
        for t in range(frames):
            top, left = pad + b * (h + pad), pad + t * (w + pad)
            grid[top:top + h, left:left + w] = arr[b, t]
    return grid


def tile_clips(clips: np.ndarray, n_row: Optional[int] = None, pad: int = 2) -> np.ndarray:
    """(B, T, H, W, 3) uint8 -> (T, H', W', 3): every frame a grid of the B clips."""
    bsz, frames, h, w, _ = clips.shape
    n_row = n_row or int(np.ceil(np.sqrt(bsz)))
    n_col = int(np.ceil(bsz / n_row))
    out = np.full((frames, n_col * (h + pad) + pad, n_row * (w + pad) + pad, 3), 255, np.uint8)
    for i in range(bsz):
        r, c = divmod(i, n_row)
        out[:, pad + r * (h + pad):pad + r * (h + pad) + h,
            pad + c * (w + pad):pad + c * (w + pad) + w] = clips[i]
    return out


def save_mp4(frames: np.ndarray, path: str | Path, fps: float = 8.0, scale: int = 1) -> None:
    """Write (T, H, W, 3) uint8 RGB frames as an MP4 (OpenCV ``mp4v``; temp file + rename).

    ``scale`` enlarges small frames by pixel repetition (players blur tiny videos).
    """
    import cv2
    frames = upscale(np.asarray(frames, dtype=np.uint8), scale)
    height, width = frames.shape[1:3]
    with atomic_path(path) as tmp:
        writer = cv2.VideoWriter(str(tmp), cv2.VideoWriter_fourcc(*'mp4v'), float(fps),
                                 (width, height))
        if not writer.isOpened():
            raise RuntimeError(f'OpenCV cannot write MP4 to {tmp} (no mp4v encoder?); write GIFs '
                               'instead (--formats gif).')
        try:
            for frame in frames:
                writer.write(np.ascontiguousarray(frame[..., ::-1]))  # RGB -> BGR
        finally:
            writer.release()


def save_gif(frames: np.ndarray, path: str | Path, fps: float = 8.0, scale: int = 1,
             last_ms: Optional[int] = None) -> None:
    """Write (T, H, W, 3) uint8 RGB frames as a looping GIF (Pillow; temp file + rename);
    ``last_ms`` holds the last frame longer."""
    from PIL import Image
    frames = upscale(np.asarray(frames, dtype=np.uint8), scale)
    images = [Image.fromarray(f) for f in frames]
    durations = [int(round(1000 / fps))] * len(images)
    if last_ms is not None:
        durations[-1] = int(last_ms)
    with atomic_path(path) as tmp:
        images[0].save(tmp, format='GIF', save_all=True, append_images=images[1:],
                       duration=durations if last_ms is not None else durations[0], loop=0,
                       optimize=False)


def read_video(path: str | Path) -> np.ndarray:
    """All frames of a video file as (T, H, W, 3) uint8 RGB (OpenCV; GIFs via Pillow)."""
    path = Path(path)
    if path.suffix.lower() == '.gif':
        from PIL import Image, ImageSequence
        with Image.open(path) as im:
            return np.stack([np.asarray(f.convert('RGB')) for f in ImageSequence.Iterator(im)])
    import cv2
    cap = cv2.VideoCapture(str(path))
    frames = []
    try:
        while True:
            ok, frame = cap.read()
            if not ok:
                break
            frames.append(frame[..., ::-1])
    finally:
        cap.release()
    if not frames:
        raise ValueError(f'{path}: no frames could be decoded')
    return np.stack(frames)


def write_clips(clips: torch.Tensor, out_dir: str | Path, names: Sequence[str],
                formats: Sequence[str] = ('mp4', 'gif'), fps: float = 8.0, scale: int = 4,
                n_row: Optional[int] = None) -> List[Path]:
    """Write generated clips: one file per clip and format, plus frame grids.

    Args:
        clips: (B, T, 3, H, W) float RGB in [0, 1].
        names: B file stems, e.g. ``000000_class3``.
        formats: any of ``'mp4'``, ``'gif'``.
        scale: pixel repetition for small frames (files only; grids keep size).

    Writes ``<name>.<fmt>`` per clip, ``grid.png`` (one row per clip, one
    column per frame) and ``grid.gif`` (every clip tiled, animated). Returns
    the written paths.
    """
    bad = set(formats) - {'mp4', 'gif'}
    if bad:
        raise ValueError(f'video formats {sorted(bad)} not supported: use mp4 and / or gif')
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    arr = clips_to_uint8(clips)  # (B, T, H, W, 3)
    written = []
    for frames, name in zip(arr, names):
        for fmt in formats:
            path = out / f'{name}.{fmt}'
            (save_mp4 if fmt == 'mp4' else save_gif)(frames, path, fps=fps, scale=scale)
            written.append(path)
    from bigfix_mm.visualization.images import save_png
    save_png(make_video_grid_uint8(clips), out / 'grid.png')
    save_gif(tile_clips(arr, n_row=n_row), out / 'grid.gif', fps=fps, scale=max(1, scale // 2))
    return written + [out / 'grid.png', out / 'grid.gif']

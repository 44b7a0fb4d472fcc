"""Video datasets: folders of clips (OpenCV), UCF-101 official splits, NuScenes-style frames.

Every item carries ``frames``: (T, H, W, 3) uint8 RGB at the source resolution
(resize / crop with the ``ResizeCropFrames`` transform), ``gt_label`` and
``sample_idx``; ``video_path`` (clips) or ``frame_paths`` (frame sequences).
"""
import re
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
from mmengine.dataset import BaseDataset

from bigfix_mm.registry import DATASETS

VIDEO_EXTENSIONS = ('.avi', '.mp4', '.mov', '.mkv', '.webm', '.mpg', '.mpeg', '.m4v')
IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.webp')
CLIP_STARTS = ('first', 'center', 'random')
SHORT_POLICIES = ('pad', 'error')


def clip_indices(length: int, num_frames: int, stride: int, start: Union[str, int] = 'center',
                 rng: Optional[np.random.Generator] = None, short: str = 'pad',
                 source: str = '') -> np.ndarray:
    """Frame indices of one clip of ``num_frames`` frames ``stride`` apart.

    Args:
        length: frames in the source.
        start: ``'first'``, ``'center'``, ``'random'`` (uses ``rng``), an int
            index, or a float in [0, 1] (relative position of the clip).
        short: a source shorter than the clip span repeats its last frame
            (``'pad'``) or raises (``'error'``).

    Returns:
        (num_frames,) int64 indices in [0, length).
    """
    if length < 1:
        raise ValueError(f'{source}: no frames')
    span = (num_frames - 1) * stride + 1
    room = max(length - span, 0)
    if span > length and short == 'error':
        raise ValueError(f'{source}: {length} frames, fewer than the clip span {span} '
                         f'(num_frames={num_frames}, stride={stride}); lower them or set '
                         "short_clips='pad'.")
    if isinstance(start, (float, np.floating)):
        first = int(round(min(max(float(start), 0.0), 1.0) * room))
    elif isinstance(start, (int, np.integer)):
        first = min(int(start), room)
    elif start == 'first':
        first = 0
    elif start == 'center':
        first = room // 2
    elif start == 'random':
        # the global RNG by default: MMEngine seeds it per worker (reproducible runs)
        first = int(rng.integers(0, room + 1)) if rng is not None else np.random.randint(room + 1)
    else:
        raise ValueError(f'clip start={start!r} is not one of {CLIP_STARTS} or an int')
    return np.minimum(first + stride * np.arange(num_frames), length - 1)


def decode_video(path: Union[str, Path], num_frames: int, stride: int = 1,
                 start: Union[str, int] = 'center', rng: Optional[np.random.Generator] = None,
                 short: str = 'pad') -> np.ndarray:
    """Decode one clip with OpenCV: (num_frames, H, W, 3) uint8 RGB.

    Frames before the last needed one are grabbed (not converted); a container
    whose frame count is over-reported repeats its last decoded frame.
    """
    import cv2
    cap = cv2.VideoCapture(str(path))
    if not cap.isOpened():
        raise FileNotFoundError(f'OpenCV cannot open video {path}')
    try:
        length = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
        if length <= 0:  # some containers do not report a count: count by grabbing
            length = 0
            while cap.grab():
                length += 1
            cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
        wanted = clip_indices(length, num_frames, stride, start, rng, short, str(path))
        needed = set(wanted.tolist())
        decoded: Dict[int, np.ndarray] = {}
        last = None
        for i in range(int(wanted.max()) + 1):
            if not cap.grab():
                break
            if i in needed:
                ok, frame = cap.retrieve()
                if ok:
                    decoded[i] = last = frame
    finally:
        cap.release()
    if last is None:
        raise ValueError(f'{path}: no frame could be decoded (corrupt file or missing codec)')
    frames, prev = [], None
    for i in wanted.tolist():
        prev = decoded.get(i, prev if prev is not None else last)
        frames.append(prev)
    return np.ascontiguousarray(np.stack(frames)[..., ::-1])  # BGR -> RGB


def read_frames(paths: Sequence[Union[str, Path]]) -> np.ndarray:
    """Image files -> (T, H, W, 3) uint8 RGB (OpenCV)."""
    import cv2
    frames = []
    for p in paths:
        img = cv2.imread(str(p), cv2.IMREAD_COLOR)
        if img is None:
            raise FileNotFoundError(f'cannot read frame {p}')
        frames.append(img[..., ::-1])
    shapes = {f.shape for f in frames}
    if len(shapes) != 1:
        raise ValueError(f'frames of one clip differ in size: {sorted(shapes)} ({paths[0]} ...)')
    return np.ascontiguousarray(np.stack(frames))


class _ClipDataset(BaseDataset):
    """Shared clip options; subclasses build ``data_list`` entries with ``video_path``."""

    def __init__(self, num_frames: int = 16, stride: int = 1, clip_start: Union[str, int] = 'center',
                 short_clips: str = 'pad', clips_per_video: int = 1, **kwargs):
        if num_frames < 1 or stride < 1 or clips_per_video < 1:
            raise ValueError(f'num_frames={num_frames}, stride={stride} and clips_per_video='
                             f'{clips_per_video} must be >= 1')
        self.clips_per_video = int(clips_per_video)
        if short_clips not in SHORT_POLICIES:
            raise ValueError(f'short_clips={short_clips!r} is not one of {SHORT_POLICIES}')
        if not isinstance(clip_start, int) and clip_start not in CLIP_STARTS:
            raise ValueError(f'clip_start={clip_start!r} is not one of {CLIP_STARTS} or an int')
        self.num_frames, self.stride = int(num_frames), int(stride)
        self.clip_start, self.short_clips = clip_start, short_clips
        kwargs.setdefault('serialize_data', False)
        super().__init__(**kwargs)

    def expand_clips(self, items: List[dict]) -> List[dict]:
        """``clips_per_video`` evenly spaced clips of every video (``clip_index`` j)."""
        n = self.clips_per_video
        return [dict(item, clip_index=j) for item in items for j in range(n)]

    def get_data_info(self, idx: int) -> dict:
        info = super().get_data_info(idx)
        n = self.clips_per_video
        start = info.get('clip_index', 0) / (n - 1) if n > 1 else self.clip_start
        info['frames'] = decode_video(info['video_path'], self.num_frames, self.stride,
                                      start, None, self.short_clips)
        info['num_frames'] = self.num_frames
        return info


@DATASETS.register_module()
class VideoFolderDataset(_ClipDataset):
    """Clips in ``data_root/<class>/<name>.<ext>`` (classes sorted by name), or listed in
    ``ann_file`` (``relative/path.avi label`` per line, label optional: from the folder).

    Args:
        data_root: folder of clips.
        ann_file: optional list file (relative to ``data_root`` unless absolute).
        classes: class names (default: the sub-folders of ``data_root``).
        num_frames: T frames per clip, ``stride`` frames apart.
        clip_start: ``'center'`` (deterministic; evaluation), ``'random'``
            (training) or ``'first'`` / an int.
        clips_per_video: n > 1 cuts n evenly spaced clips from every video
            (first to last possible start; e.g. for token extraction).
        short_clips: ``'pad'`` repeats the last frame of short videos, ``'error'`` raises.
        pipeline, indices, ...: as :class:`mmengine.dataset.BaseDataset`.
    """

    def __init__(self, data_root: str, ann_file: str = '', classes: Optional[Sequence[str]] = None,
                 **kwargs):
        root = Path(data_root)
        if not root.is_dir():
            raise FileNotFoundError(f'{type(self).__name__}: data_root={str(root)!r} does not exist')
        self._classes = (list(classes) if classes is not None else
                         sorted(p.name for p in root.iterdir() if p.is_dir()))
        metainfo = dict(kwargs.pop('metainfo', None) or {}, classes=tuple(self._classes))
        super().__init__(data_root=str(root), ann_file=ann_file, metainfo=metainfo, **kwargs)

    def load_data_list(self) -> List[dict]:
        root = Path(self.data_root)
        classes = self._classes
        index = {name: i for i, name in enumerate(classes)}
        items = []
        if self.ann_file:
            for line in _read_lines(self.ann_file, root):
                parts = line.split()
                rel = parts[0]
                label = int(parts[1]) if len(parts) > 1 else _label_from_folder(rel, index)
                items.append((rel, label))
        else:
            for name in classes:
                for p in sorted((root / name).iterdir()):
                    if p.suffix.lower() in VIDEO_EXTENSIONS:
                        items.append((f'{name}/{p.name}', index[name]))
        if not items:
            raise FileNotFoundError(f'{type(self).__name__}: no videos ({", ".join(VIDEO_EXTENSIONS)})'
                                    f' under {root}' + (f' listed in {self.ann_file}' if self.ann_file else ''))
        return self.expand_clips([dict(video_path=str(root / rel), gt_label=int(label))
                                  for rel, label in items])


@DATASETS.register_module()
class UCF101(VideoFolderDataset):
    """UCF-101 with its official split files.

    Layout: ``data_root/<Class>/v_<Class>_gXX_cYY.avi`` and ``split_dir`` holding
    ``classInd.txt`` (``1 ApplyEyeMakeup``), ``trainlist0N.txt``
    (``ApplyEyeMakeup/v_..._g08_c01.avi 1``, 1-based labels) and ``testlist0N.txt``
    (paths only; labels come from the folder through ``classInd.txt``).
    Labels are 0-based (101 classes).

    Args:
        split: ``'train'`` or ``'test'``.
        fold: official split 1, 2 or 3.
        split_dir: folder of the split files (default ``data_root/../ucfTrainTestlist``).
        Other arguments as :class:`VideoFolderDataset`.
    """

    def __init__(self, data_root: str, split: str = 'train', fold: int = 1,
                 split_dir: Optional[str] = None, **kwargs):
        if split not in ('train', 'test'):
            raise ValueError(f"UCF101: split={split!r} must be 'train' or 'test'")
        if fold not in (1, 2, 3):
            raise ValueError(f'UCF101: fold={fold} must be 1, 2 or 3')
        self.split_dir = Path(split_dir) if split_dir else Path(data_root).parent / 'ucfTrainTestlist'
        class_file = self.split_dir / 'classInd.txt'
        list_file = self.split_dir / f'{split}list0{fold}.txt'
        for f in (class_file, list_file):
            if not f.is_file():
                raise FileNotFoundError(f'UCF101: {f} is missing; set split_dir to the folder of '
                                        'the official split files (ucfTrainTestlist).')
        classes = []
        for line in _read_lines(str(class_file), self.split_dir):
            number, name = line.split()
            if int(number) != len(classes) + 1:
                raise ValueError(f'UCF101: {class_file} must number classes 1..C in order; got '
                                 f'{number} at line {len(classes) + 1}')
            classes.append(name)
        self.split, self.fold = split, fold
        super().__init__(data_root, ann_file=str(list_file), classes=classes, **kwargs)

    def load_data_list(self) -> List[dict]:
        root = Path(self.data_root)
        index = {name: i for i, name in enumerate(self._classes)}
        items = []
        for line in _read_lines(self.ann_file, root):
            parts = line.split()
            label = _label_from_folder(parts[0], index)
            if len(parts) > 1 and int(parts[1]) - 1 != label:
                raise ValueError(f'UCF101: {self.ann_file}: {parts[0]} has label {parts[1]} but its '
                                 f'folder is class {label + 1} in classInd.txt')
            items.append(dict(video_path=str(root / parts[0]), gt_label=label))
        if not items:
            raise ValueError(f'UCF101: {self.ann_file} lists no clips')
        return self.expand_clips(items)


@DATASETS.register_module()
class NuScenesFrames(BaseDataset):
    """Front-camera frame sequences cut into fixed-length clips (frame prediction).

    Two layouts:

    - ``'scenes'``: ``data_root/<sequence>/[<camera>/]*.jpg``, frames sorted by
      name (an export of one folder per scene).
    - ``'raw'``: the nuScenes release, ``data_root/<source>/<camera>/
      <log>__<camera>__<timestamp_us>.jpg`` with ``source`` ``samples`` (key
      frames, 2 Hz), ``sweeps`` (the frames between key frames) or both,
      ``('samples', 'sweeps')``: the full ~12 Hz stream. ``sweeps`` alone
      lacks every key frame, so its frames are unevenly spaced (a gap of two
      intervals about every sixth frame). Frames are grouped by log, sorted by
      time and split into sequences wherever two frames are more than
      ``max_gap_s`` apart.

    Each sequence yields clips of ``num_frames`` frames ``stride`` apart, a new
    clip every ``clip_step`` frames (default: non-overlapping). Labels are 0
    (one class: unconditional; condition on given frames instead).

    Args:
        split_file: optional text file of names (one a line) to keep: sequence
            folder names (``'scenes'``) or log names (``'raw'``), e.g. a split.
    """

    METAINFO = dict(classes=('scene', ))

    def __init__(self, data_root: str, layout: str = 'scenes', camera: str = 'CAM_FRONT',
                 source: Union[str, Sequence[str]] = 'samples', num_frames: int = 8,
                 stride: int = 1,
                 clip_step: Optional[int] = None, max_gap_s: float = 1.0,
                 split_file: Optional[str] = None, **kwargs):
        if layout not in ('scenes', 'raw'):
            raise ValueError(f"NuScenesFrames: layout={layout!r} must be 'scenes' or 'raw'")
        if num_frames < 1 or stride < 1:
            raise ValueError(f'num_frames={num_frames} and stride={stride} must be >= 1')
        root = Path(data_root)
        if not root.is_dir():
            raise FileNotFoundError(f'NuScenesFrames: data_root={str(root)!r} does not exist')
        self.layout, self.camera = layout, camera
        self.source = (source, ) if isinstance(source, str) else tuple(source)
        self.num_frames, self.stride = int(num_frames), int(stride)
        self.clip_step = int(clip_step or num_frames * stride)
        self.max_gap_s = float(max_gap_s)
        self.split_file = split_file
        kwargs.setdefault('serialize_data', False)
        super().__init__(data_root=str(root), ann_file='', **kwargs)

    def sequences(self) -> Dict[str, List[Path]]:
        """Sequence name -> its frame paths in time order."""
        root = Path(self.data_root)
        seqs: Dict[str, List[Path]] = {}
        if self.layout == 'scenes':
            for d in sorted(p for p in root.iterdir() if p.is_dir()):
                folder = d / self.camera if (d / self.camera).is_dir() else d
                frames = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_EXTENSIONS)
                if frames:
                    seqs[d.name] = frames
        else:
            pattern = re.compile(rf'^(?P<log>.+)__{re.escape(self.camera)}__(?P<ts>\d+)$')
            by_log: Dict[str, List[Tuple[int, Path]]] = {}
            for source in self.source:
                folder = root / source / self.camera
                if not folder.is_dir():
                    raise FileNotFoundError(f'NuScenesFrames: {folder} is missing (layout=raw '
                                            f'expects <data_root>/{source}/{self.camera}/*.jpg)')
                for p in folder.iterdir():
                    m = pattern.match(p.stem)
                    if m and p.suffix.lower() in IMAGE_EXTENSIONS:
                        by_log.setdefault(m['log'], []).append((int(m['ts']), p))
            for log in sorted(by_log):
                part, prev_ts, n = [], None, 0
                for ts, p in sorted(by_log[log]):
                    if prev_ts is not None and (ts - prev_ts) / 1e6 > self.max_gap_s:
                        seqs[f'{log}#{n}'], part, n = part, [], n + 1
                    part.append(p)
                    prev_ts = ts
                if part:
                    seqs[f'{log}#{n}'] = part
        if self.split_file:
            keep = set(_read_lines(self.split_file, root))  # sequence or log names
            seqs = {k: v for k, v in seqs.items() if k in keep or k.split('#')[0] in keep}
            if not seqs:
                raise ValueError(f'NuScenesFrames: none of the names in {self.split_file} (e.g. '
                                 f'{sorted(keep)[:3]}) is a sequence or log under {root}')
        return seqs

    def load_data_list(self) -> List[dict]:
        span = (self.num_frames - 1) * self.stride + 1
        items = []
        for name, frames in self.sequences().items():
            for first in range(0, len(frames) - span + 1, self.clip_step):
                paths = [str(frames[first + i * self.stride]) for i in range(self.num_frames)]
                items.append(dict(frame_paths=paths, sequence=name, first_frame=first, gt_label=0))
        if not items:
            raise FileNotFoundError(f'NuScenesFrames: no sequence under {self.data_root} '
                                    f'(layout={self.layout!r}, camera={self.camera!r}) has '
                                    f'{span} frames (num_frames={self.num_frames}, '
                                    f'stride={self.stride}).')
        return items

    def get_data_info(self, idx: int) -> dict:
        info = super().get_data_info(idx)
        info['frames'] = read_frames(info['frame_paths'])
        info['num_frames'] = self.num_frames
        return info


def _read_lines(path: str, root: Path) -> List[str]:
    p = Path(path)
    if not p.is_absolute() and not p.is_file():
        p = root / p
    if not p.is_file():
        raise FileNotFoundError(f'list file {p} does not exist')
    return [line.strip() for line in p.read_text().splitlines() if line.strip()]


def _label_from_folder(rel: str, index: Dict[str, int]) -> int:
    folder = rel.replace('\\', '/').split('/')[0]
    if folder not in index:
        raise ValueError(f'{rel}: folder {folder!r} is not a known class (have {len(index)} '
                         'classes); check classInd.txt / `classes`.')
    return index[folder]


def item_pixels(item: dict) -> np.ndarray:
    """Pixels of a dataset item for token extraction: ``img`` (H, W, 3) or ``frames``
    (T, H, W, 3) uint8 RGB."""
    if 'img' in item:
        return np.asarray(item['img'])
    if 'frames' in item:
        return np.asarray(item['frames'])
    raise KeyError(f'dataset item has neither `img` nor `frames` (keys: {sorted(item)})')


def token_grid_of(tokenizer, pixels_shape: Sequence[int]) -> Tuple[int, ...]:
    """Token grid of one item: (h, w) for an (H, W, 3) image, (t, h, w) for a
    (T, H, W, 3) clip (which needs a video tokenizer, e.g. ``PerFrameTokenizer``)."""
    if len(pixels_shape) == 3:
        return tuple(tokenizer.grid_size(tuple(pixels_shape[:2])))
    if not hasattr(tokenizer, 'token_grid'):
        raise TypeError(f'clips need a video tokenizer, got {type(tokenizer).__name__}: wrap it, '
                        "tokenizer = dict(type='PerFrameTokenizer', tokenizer=...).")
    return tuple(tokenizer.token_grid(int(pixels_shape[0]), tuple(pixels_shape[1:3])))

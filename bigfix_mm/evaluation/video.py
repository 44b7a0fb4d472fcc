"""Video metrics: temporal consistency (synthetic set), per-frame Fréchet distance, FVD.

Clips are (N, T, H, W, 3) uint8 RGB arrays throughout.

- :func:`temporal_consistency` reads every object of the synthetic moving-shapes
  set back from pixels (by its palette colour) and counts identity switches and
  position jumps between consecutive frames.
- :func:`per_frame_frechet` is the Fréchet distance between feature statistics
  of all frames (default features: the offline EfficientNet-Lite0 of
  :mod:`bigfix_mm.evaluation.efficientnet`; any callable can be passed).
- :func:`frechet_video_distance` needs a user-supplied TorchScript I3D file
  (none can be downloaded here); :class:`I3DFeatures` raises a clear error
  naming the option when it is missing. FVD takes 16-frame clips only.

The evaluation protocol (the real reference set) lives here too:

- :func:`build_raw_clips` builds a split's dataset of *video files*
  (``extract_datasets[split]``, or a dataloader that reads frames), never the
  pre-extracted tokens: reconstructions are not real clips.
- :func:`balanced_indices` picks real clips whose classes match the generated
  labels, spread over each class (not the first N in dataset order).
- :func:`metric_frames` drops the given (context) frames before any metric.
- Both Fréchet distances warn (:class:`RankDeficientWarning`) when a set has
  fewer samples than feature dimensions.
"""
import os.path as osp
import warnings
from typing import Callable, Dict, List, Optional, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from bigfix_mm.evaluation.frechet import feature_statistics, frechet_distance

FeatureFn = Callable[[torch.Tensor], torch.Tensor]  # (B, 3, H, W) float BGR [0, 255] -> (B, D)
I3D_HINT = ('FVD needs I3D weights, which cannot be downloaded here: set `i3d_path` '
            '(tools/eval_video.py --i3d PATH) to a TorchScript I3D feature extractor, e.g. the '
            '`i3d_torchscript.pt` used by the StyleGAN-V / fvd-comparison FVD code.')


FVD_NUM_FRAMES = 16  # I3D-based FVD is defined on 16-frame clips
DEFAULT_NUM_CLIPS = 2048  # clips per set: the common FVD protocol, above I3D's 400 dimensions
TOKEN_TRANSFORMS = ('TokenizeVideo', 'ContextFrames', 'RandomTokenInjection', 'PackTokenInputs')


class RankDeficientWarning(UserWarning):
    """A Fréchet distance computed from fewer samples than feature dimensions."""


def _check_clips(clips: np.ndarray, name: str = 'clips') -> np.ndarray:
    clips = np.asarray(clips)
    if clips.ndim != 5 or clips.shape[-1] != 3 or clips.dtype != np.uint8:
        raise ValueError(f'{name} must be (N, T, H, W, 3) uint8 RGB, got {clips.shape} {clips.dtype}')
    return clips


# ------------------------------------------------------------- temporal consistency
def object_tracks(clips: np.ndarray, palette: Sequence[Sequence[int]],
                  max_color_dist: float = 70.0, min_area: int = 4) -> Dict[str, np.ndarray]:
    """Per-frame presence, area and centroid of every palette colour.

    A pixel belongs to colour ``c`` when ``c`` is its nearest palette entry and
    lies within ``max_color_dist`` (RGB Euclidean; 70 accepts one 4-level
    quantisation step, 64, in one channel, as at partly covered token cells);
    a colour is *present* in a frame when it covers at least ``min_area`` pixels.

    Returns:
        ``present`` (N, T, P) bool, ``area`` (N, T, P) int, ``centroid``
        (N, T, P, 2) float (y, x; NaN where absent).
    """
    clips = _check_clips(clips)
    pal = np.asarray(palette, dtype=np.float32)  # (P, 3)
    n, t, h, w, _ = clips.shape
    x = clips.reshape(n, t, h * w, 1, 3).astype(np.float32)
    dist = np.sqrt(((x - pal) ** 2).sum(-1))  # (N, T, HW, P)
    nearest = dist.argmin(-1)
    owned = (dist.min(-1) <= max_color_dist)
    onehot = (nearest[..., None] == np.arange(len(pal))) & owned[..., None]  # (N, T, HW, P)
    area = onehot.sum(2)  # (N, T, P)
    ys, xs = np.divmod(np.arange(h * w), w)
    with np.errstate(invalid='ignore', divide='ignore'):
        cy = (onehot * ys[:, None]).sum(2) / area
        cx = (onehot * xs[:, None]).sum(2) / area
    present = area >= min_area
    centroid = np.stack([cy, cx], -1)
    centroid[~present] = np.nan
    return dict(present=present, area=area, centroid=centroid)


def temporal_consistency(clips: np.ndarray, palette: Optional[Sequence[Sequence[int]]] = None,
                         jump_px: float = 10.0, max_color_dist: float = 70.0,
                         min_area: int = 4) -> Dict[str, float]:
    """How often objects change identity or jump between consecutive frames.

    Args:
        clips: (N, T, H, W, 3) uint8 RGB, e.g. decoded samples.
        palette: object colours (default: the moving-shapes palette).
        jump_px: a centroid moving farther than this between two frames is a
            jump (objects of the synthetic set move one 4-px cell per axis and
            frame, at most 5.7 px; occlusion moves centroids a few pixels more:
            real clips have no jump at 10 px).

    Returns:
        ``id_switch_rate``: share of consecutive frame pairs whose set of present
        colours differs; ``pos_jump_rate``: share of objects present in both
        frames whose centroid jumps; ``area_change``: mean relative area change
        of such objects; ``objects_per_frame``: mean number of present colours;
        ``consistent_clip_rate``: share of clips with no switch and no jump.
    """
    if palette is None:
        from bigfix_mm.datasets.synthetic_video import PALETTE as palette
    tracks = object_tracks(clips, palette, max_color_dist, min_area)
    present, area, cen = tracks['present'], tracks['area'], tracks['centroid']
    switch = (present[:, 1:] != present[:, :-1]).any(-1)  # (N, T-1)
    both = present[:, 1:] & present[:, :-1]  # (N, T-1, P)
    step = np.sqrt(((cen[:, 1:] - cen[:, :-1]) ** 2).sum(-1))  # (N, T-1, P), NaN if absent
    jump = both & (np.nan_to_num(step, nan=0.0) > jump_px)
    a0, a1 = area[:, :-1].astype(np.float64), area[:, 1:].astype(np.float64)
    rel = np.abs(a1 - a0) / np.maximum(np.maximum(a0, a1), 1)
    n_both = max(int(both.sum()), 1)
    clean_clip = ~(switch.any(1) | jump.any((1, 2)))
    return dict(id_switch_rate=float(switch.mean()), pos_jump_rate=float(jump.sum() / n_both),
                area_change=float((rel * both).sum() / n_both),
                objects_per_frame=float(present.sum(-1).mean()),
                consistent_clip_rate=float(clean_clip.mean()))


# ------------------------------------------------------------ per-frame Fréchet
def default_frame_features(device: str = 'cpu', image_size: int = 224) -> FeatureFn:
    """The offline EfficientNet-Lite0 pooled features (1280-d) as a callable; frames
    are resized to ``image_size`` (224: the standard; smaller is faster on CPU)."""
    try:
        from bigfix_mm.evaluation.efficientnet import EfficientNetLite0Features
    except ImportError as err:  # pragma: no cover - depends on the install
        raise ImportError(f'per-frame FD needs bigfix_mm.evaluation.efficientnet ({err}); pass '
                          '`features=` a callable (B, 3, H, W) BGR [0, 255] -> (B, D).') from err
    net = EfficientNetLite0Features(image_size=image_size).to(device).eval()
    return net


@torch.no_grad()
def frame_features(clips: np.ndarray, features: FeatureFn, batch_size: int = 64,
                   device: str = 'cpu') -> np.ndarray:
    """Features of every frame: (N, T, H, W, 3) uint8 RGB -> (N * T, D) float64."""
    frames = _check_clips(clips).reshape(-1, *clips.shape[2:])  # (N*T, H, W, 3)
    out = []
    for start in range(0, len(frames), batch_size):
        x = torch.from_numpy(np.ascontiguousarray(frames[start:start + batch_size]))
        x = x.to(device).permute(0, 3, 1, 2).flip(1).float()  # (B, 3, H, W) BGR [0, 255]
        out.append(features(x).double().cpu().numpy())
    return np.concatenate(out)


def per_frame_frechet(fake: np.ndarray, real: np.ndarray, features: Optional[FeatureFn] = None,
                      batch_size: int = 64, device: str = 'cpu',
                      real_features: Optional[np.ndarray] = None) -> Dict[str, float]:
    """Fréchet distance between the frames of ``fake`` and ``real`` clips.

    Args:
        fake, real: (N, T, H, W, 3) uint8 RGB (``real`` may be None when
            ``real_features`` is given).
        features: frame feature extractor; default EfficientNet-Lite0.
        real_features: precomputed (M, D) features of the real frames.

    Returns:
        ``dict(fd, mean, cov, num_fake, num_real)`` (frames, not clips).
    """
    features = features or default_frame_features(device)
    f_fake = frame_features(fake, features, batch_size, device)
    f_real = real_features if real_features is not None else frame_features(
        real, features, batch_size, device)
    return _frechet(f_fake, f_real, 'frames')


def warn_if_rank_deficient(features: np.ndarray, unit: str, name: str = 'features') -> bool:
    """Warn (:class:`RankDeficientWarning`) when (N, D) ``features`` have N <= D:
    the covariance then has rank at most N - 1 < D and the distance is biased."""
    n, d = features.shape
    if n > d:
        return False
    warnings.warn(f'{name}: {n} {unit} for {d}-d features, so the covariance has rank at most '
                  f'{n - 1} < {d} and the Fréchet distance is biased and unstable; use more than '
                  f'{d} {unit} (tools/eval_video.py --num).', RankDeficientWarning, stacklevel=3)
    return True


def _frechet(f_fake: np.ndarray, f_real: np.ndarray, unit: str) -> Dict[str, float]:
    for name, feats in (('generated', f_fake), ('real', f_real)):
        warn_if_rank_deficient(feats, unit, f'{name} {unit}')
    out = frechet_distance(*feature_statistics(f_fake), *feature_statistics(f_real))
    out.update(num_fake=len(f_fake), num_real=len(f_real))
    return out


# --------------------------------------------------------------------------- FVD
class I3DFeatures(torch.nn.Module):
    """A user-supplied TorchScript I3D as a clip feature extractor.

    Args:
        i3d_path: TorchScript file; called as ``net(x, **call_kwargs)`` with
            ``x`` (B, 3, T, 224, 224) float in [-1, 1].
        call_kwargs: keyword arguments of the call; default
            ``dict(rescale=False, resize=False, return_features=True)`` (the
            interface of the common ``i3d_torchscript.pt``).
        size: frames are resized (bilinear) to ``size`` x ``size`` first.

    Shapes: (B, T, H, W, 3) uint8 RGB -> (B, D) float64 (D = 400 for that file).
    """

    def __init__(self, i3d_path: Optional[str], call_kwargs: Optional[dict] = None,
                 size: int = 224, device: str = 'cpu'):
        super().__init__()
        if not i3d_path:
            raise FileNotFoundError(f'i3d_path is not set. {I3D_HINT}')
        if not osp.isfile(i3d_path):
            raise FileNotFoundError(f'i3d_path={i3d_path!r} does not exist. {I3D_HINT}')
        # TorchScript archives hold code and tensors, not arbitrary pickled Python objects.
        self.net = torch.jit.load(i3d_path, map_location=device).eval()
        self.call_kwargs = dict(rescale=False, resize=False, return_features=True) \
            if call_kwargs is None else dict(call_kwargs)
        self.size, self.device = int(size), device

    @torch.no_grad()
    def forward(self, clips: np.ndarray) -> np.ndarray:
        x = torch.from_numpy(np.ascontiguousarray(_check_clips(clips))).to(self.device)
        b, t = x.shape[:2]
        x = x.flatten(0, 1).permute(0, 3, 1, 2).float()  # (B*T, 3, H, W)
        x = F.interpolate(x, size=(self.size, self.size), mode='bilinear', align_corners=False)
        x = (x / 127.5 - 1.0).view(b, t, 3, self.size, self.size).permute(0, 2, 1, 3, 4)
        return self.net(x.contiguous(), **self.call_kwargs).double().cpu().numpy()


def check_fvd_frames(num_frames: int, context_frames: int = 0) -> None:
    """Refuse FVD on clips that are not 16 frames long (I3D FVD is defined, and
    reported, on 16-frame clips; other lengths give numbers comparable to nothing).

    ``num_frames`` counts the frames scored: the clip length minus the
    ``context_frames`` given ones."""
    scored = int(num_frames) - int(context_frames)
    if scored == FVD_NUM_FRAMES:
        return
    given = (f' ({num_frames}-frame clips with {context_frames} given frames left out)'
             if context_frames else '')
    raise ValueError(
        f'FVD needs {FVD_NUM_FRAMES}-frame clips; these clips score {scored} frames{given}. '
        f'Evaluate a config whose clips score {FVD_NUM_FRAMES} frames (num_frames='
        f'{FVD_NUM_FRAMES + int(context_frames)} with these given frames), or leave out --i3d '
        '(the per-frame Fréchet distance takes any length).')


def frechet_video_distance(fake: np.ndarray, real: np.ndarray, i3d_path: Optional[str],
                           batch_size: int = 16, device: str = 'cpu',
                           call_kwargs: Optional[dict] = None,
                           size: int = 224) -> Dict[str, float]:
    """FVD: Fréchet distance of I3D features of (N, 16, H, W, 3) uint8 clips
    (needs ``i3d_path``; other clip lengths are refused; frames resized to ``size``)."""
    fake, real = _check_clips(fake, 'fake'), _check_clips(real, 'real')
    for clips in (fake, real):
        check_fvd_frames(clips.shape[1])
    net = I3DFeatures(i3d_path, call_kwargs, size=size, device=device)
    feats = [np.concatenate([net(c[i:i + batch_size]) for i in range(0, len(c), batch_size)])
             for c in (fake, real)]
    return _frechet(feats[0], feats[1], 'clips')


# ------------------------------------------------------------ the real reference
def metric_frames(clips: np.ndarray, context_frames: int = 0) -> np.ndarray:
    """The frames a metric scores: (N, T, H, W, 3) -> (N, T - k, H, W, 3); the
    ``context_frames`` = k given frames were copied, not generated."""
    clips = _check_clips(clips)
    k = int(context_frames)
    if not 0 <= k < clips.shape[1]:
        raise ValueError(f'context_frames={k} must be in [0, T={clips.shape[1]})')
    return clips[:, k:]


def raw_dataset_cfg(cfg, split: str) -> dict:
    """Config of the dataset of real *video files* of ``split``.

    ``cfg.extract_datasets[split]`` when present (the raw clips the tokens
    were extracted from), else ``cfg.<split>_dataloader.dataset`` if it reads
    frames itself (its pipeline cut before the first token transform). A split
    that only exists as pre-extracted tokens is refused: tokenizer
    reconstructions are not real clips.
    """
    extract = cfg.get('extract_datasets') or {}
    if split in extract:
        ds = extract[split]
        return ds.to_dict() if hasattr(ds, 'to_dict') else dict(ds)
    key = f'{split}_dataloader'
    if key not in cfg:
        raise KeyError(f'real split {split!r}: the config has neither extract_datasets[{split!r}] '
                       f'nor {key}; splits with video files: {raw_splits(cfg)}')
    ds = cfg[key].dataset
    ds = ds.to_dict() if hasattr(ds, 'to_dict') else dict(ds)
    if ds.get('type') == 'TokenDataset':
        raise ValueError(
            f'real split {split!r}: {key}.dataset is a TokenDataset (tokenizer reconstructions, '
            f'not real clips) and the config has no extract_datasets[{split!r}] naming its video '
            f'files. Add extract_datasets[{split!r}], or choose one of {raw_splits(cfg)}.')
    pipeline = []
    for t in ds.get('pipeline', []):
        if t['type'] in TOKEN_TRANSFORMS:
            break
        pipeline.append(t)
    ds['pipeline'] = pipeline
    return ds


def raw_splits(cfg) -> List[str]:
    """Names of the splits whose real clips :func:`build_raw_clips` can read."""
    names = list(cfg.get('extract_datasets') or {})
    for key in cfg.keys():
        if key.endswith('_dataloader') and cfg[key].dataset.get('type') != 'TokenDataset':
            name = key[:-len('_dataloader')]
            if name not in names:
                names.append(name)
    return names


def build_raw_clips(cfg, split: str):
    """The dataset of real clips of ``split`` (items hold ``frames`` (T, H, W, 3) uint8)."""
    from bigfix_mm.registry import DATASETS
    return DATASETS.build(raw_dataset_cfg(cfg, split))


def dataset_labels(dataset) -> np.ndarray:
    """(N,) int64 class ids of a dataset, read from its annotations (no video decoded)."""
    from mmengine.dataset import BaseDataset
    return np.array([int(BaseDataset.get_data_info(dataset, i).get('gt_label', 0))
                     for i in range(len(dataset))], dtype=np.int64)


def balanced_indices(labels: np.ndarray, wanted: Sequence[int], split: str = '') -> np.ndarray:
    """Dataset indices whose classes match ``wanted`` position by position.

    The clips of a class are spread evenly over that class's clips in dataset
    order (distinct, deterministic), so a sorted list does not yield the first
    few videos only.

    Args:
        labels: (N,) class id of every clip of the dataset.
        wanted: (M,) class id of every generated clip.

    Returns:
        (M,) int64 indices ``idx`` with ``labels[idx] == wanted``.
    """
    labels, wanted = np.asarray(labels), np.asarray(wanted, dtype=np.int64)
    out = np.empty(len(wanted), dtype=np.int64)
    for c in np.unique(wanted):
        members = np.flatnonzero(labels == c)
        slots = np.flatnonzero(wanted == c)
        if len(members) < len(slots):
            where = f' of split {split!r}' if split else ''
            raise ValueError(f'class {int(c)} has {len(members)} clips{where}, {len(slots)} are '
                             'needed to match the generated labels: lower --num, or use a split '
                             'with more clips (clips_per_video).')
        pick = np.linspace(0, len(members) - 1, len(slots)).round().astype(np.int64)
        out[slots] = members[pick]
    return out


def load_clips(dataset, indices: Sequence[int]) -> np.ndarray:
    """(M, T, H, W, 3) uint8 frames of the given dataset items."""
    return np.stack([np.asarray(dataset[int(i)]['frames'], dtype=np.uint8) for i in indices])


def real_clips(cfg, split: str, labels: Sequence[int]) -> Dict[str, np.ndarray]:
    """Real clips of ``split`` matching ``labels`` class by class.

    Returns ``dict(frames (M, T, H, W, 3) uint8, labels (M,), indices (M,))``.
    """
    dataset = build_raw_clips(cfg, split)
    indices = balanced_indices(dataset_labels(dataset), labels, split)
    return dict(frames=load_clips(dataset, indices), labels=np.asarray(labels), indices=indices)


class ReferenceScorer:
    """Scores sets of clips against one real reference set.

    The ``context_frames`` given frames are dropped from the reference and from
    every scored set before any metric; the reference features are computed
    once. Rank-deficient Fréchet distances are flagged in the result
    (``rank_deficient``) and their warnings collected in :attr:`warnings`.

    Args:
        real: (N, T, H, W, 3) uint8 real clips.
        context_frames: number of given frames at the start of every clip.
        consistency: also report :func:`temporal_consistency` (synthetic set).
        frame_features_fn: per-frame feature extractor, or None (no frame FD).
        i3d_path: TorchScript I3D for FVD, or None (no FVD; needs 16 scored frames).
    """

    def __init__(self, real: np.ndarray, context_frames: int = 0, consistency: bool = False,
                 frame_features_fn: Optional[FeatureFn] = None, i3d_path: Optional[str] = None,
                 device: str = 'cpu'):
        real = _check_clips(real, 'real')
        if i3d_path:
            check_fvd_frames(real.shape[1], context_frames)
        self.context_frames = int(context_frames)
        self.consistency, self.device = consistency, device
        self.shape = real.shape[1:]
        self.real = metric_frames(real, context_frames)
        self.features, self.i3d_path = frame_features_fn, i3d_path
        self.real_features = None if frame_features_fn is None else frame_features(
            self.real, frame_features_fn, device=device)
        self.warnings: List[str] = []

    def __call__(self, clips: np.ndarray) -> Dict[str, float]:
        clips = _check_clips(clips)
        if clips.shape[1:] != self.shape:
            raise ValueError(f'clips of shape {clips.shape[1:]} cannot be scored against real '
                             f'clips of shape {self.shape}: the real split must be cut like the '
                             'training clips (num_frames, stride, frame size).')
        clips = metric_frames(clips, self.context_frames)
        out: Dict[str, float] = {}
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter('always', RankDeficientWarning)
            if self.consistency:
                out.update(temporal_consistency(clips))
            if self.features is not None:
                out['frame_fd'] = per_frame_frechet(clips, None, self.features,
                                                    device=self.device,
                                                    real_features=self.real_features)['fd']
            if self.i3d_path:
                out['fvd'] = frechet_video_distance(clips, self.real, self.i3d_path,
                                                    device=self.device)['fd']
        for w in caught:
            if issubclass(w.category, RankDeficientWarning):
                out['rank_deficient'] = True
                if str(w.message) not in self.warnings:
                    self.warnings.append(str(w.message))
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        return out

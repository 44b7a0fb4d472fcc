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
  naming the option when it is missing.
"""
import os.path as osp
from typing import Callable, Dict, Optional, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from .frechet import feature_statistics, frechet_distance

FeatureFn = Callable[[torch.Tensor], torch.Tensor]  # (B, 3, H, W) float BGR [0, 255] -> (B, D)
I3D_HINT = ('FVD needs I3D weights, which cannot be downloaded here: set `i3d_path` '
            '(tools/eval_video.py --i3d PATH) to a TorchScript I3D feature extractor, e.g. the '
            '`i3d_torchscript.pt` used by the StyleGAN-V / fvd-comparison FVD code.')


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
        from .efficientnet import EfficientNetLite0Features
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


def frechet_video_distance(fake: np.ndarray, real: np.ndarray, i3d_path: Optional[str],
                           batch_size: int = 16, device: str = 'cpu',
                           call_kwargs: Optional[dict] = None) -> Dict[str, float]:
    """FVD: Fréchet distance of I3D clip features (needs ``i3d_path``)."""
    net = I3DFeatures(i3d_path, call_kwargs, device=device)
    feats = [np.concatenate([net(c[i:i + batch_size]) for i in range(0, len(c), batch_size)])
             for c in (_check_clips(fake, 'fake'), _check_clips(real, 'real'))]
    out = frechet_distance(*feature_statistics(feats[0]), *feature_statistics(feats[1]))
    out.update(num_fake=len(feats[0]), num_real=len(feats[1]))
    return out

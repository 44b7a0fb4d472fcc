"""Temporal consistency, per-frame Fréchet distance and the FVD plumbing."""
import numpy as np
import pytest
import torch

from bigfix_mm.datasets.synthetic_video import SyntheticMovingShapes
from bigfix_mm.evaluation.video import (I3DFeatures, frechet_video_distance, per_frame_frechet,
                                        temporal_consistency)


@pytest.fixture(scope='module')
def clips():
    ds = SyntheticMovingShapes(num_samples=24, num_frames=8, split='val')
    return np.stack([ds[i]['frames'] for i in range(24)])


def test_real_clips_are_consistent(clips):
    tc = temporal_consistency(clips)
    assert tc['id_switch_rate'] == 0 and tc['pos_jump_rate'] == 0
    assert tc['consistent_clip_rate'] == 1 and tc['objects_per_frame'] == 2


def test_shuffled_frames_jump_and_swapped_clips_switch_identity(clips):
    shuffled = clips[:, [0, 5, 2, 7, 1, 6, 3, 4]]
    assert temporal_consistency(shuffled)['pos_jump_rate'] > 0.1
    mixed = clips.copy()
    mixed[:, 4:] = clips[np.roll(np.arange(len(clips)), 1), 4:]  # another clip from frame 4
    tc = temporal_consistency(mixed)
    assert tc['id_switch_rate'] > 0.05 and tc['consistent_clip_rate'] < 0.5


def mean_colour(x):  # (B, 3, H, W) BGR -> (B, 6): a cheap deterministic feature
    return torch.cat([x.mean((2, 3)), x.std((2, 3))], 1)


def test_per_frame_frechet_with_any_feature_function(clips):
    same = per_frame_frechet(clips, clips, features=mean_colour)
    assert abs(same['fd']) < 1e-6 and same['num_fake'] == 24 * 8
    darker = (clips // 2).astype(np.uint8)
    assert per_frame_frechet(darker, clips, features=mean_colour)['fd'] > 100
    with pytest.raises(ValueError, match='uint8'):
        per_frame_frechet(clips.astype(np.float32), clips, features=mean_colour)


class FakeI3D(torch.nn.Module):
    """Scripted stand-in with the i3d_torchscript call signature."""

    def forward(self, x: torch.Tensor, rescale: bool = False, resize: bool = False,
                return_features: bool = True) -> torch.Tensor:
        return torch.cat([x.mean((2, 3, 4)), x.std((2, 3, 4)), x[:, :, 1:].sub(x[:, :, :-1]).abs()
                          .mean((2, 3, 4))], 1)


def test_fvd_needs_a_user_supplied_i3d_file(tmp_path, clips):
    with pytest.raises(FileNotFoundError, match='i3d_path is not set.*--i3d'):
        frechet_video_distance(clips, clips, None)
    with pytest.raises(FileNotFoundError, match=r"i3d_path='.*missing.pt' does not exist"):
        I3DFeatures(str(tmp_path / 'missing.pt'))
    path = tmp_path / 'i3d.pt'
    torch.jit.script(FakeI3D()).save(str(path))
    net = I3DFeatures(str(path), size=32)
    assert net(clips[:3]).shape == (3, 9)
    fvd = frechet_video_distance(clips[:12], clips[12:], str(path))
    static = np.repeat(clips[:, :1], 8, axis=1)  # frozen clips: no motion
    assert fvd['fd'] < frechet_video_distance(static[:12], clips[12:], str(path))['fd']

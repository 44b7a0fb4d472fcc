"""Temporal consistency, per-frame Fréchet distance, the FVD plumbing and the real
reference of the video evaluation (raw files, class balance, given frames left out)."""
import warnings

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config

from bigfix_mm.datasets.synthetic_video import SyntheticMovingShapes
from bigfix_mm.evaluation.video import (FVD_NUM_FRAMES, I3DFeatures, RankDeficientWarning,
                                        ReferenceScorer, balanced_indices, check_fvd_frames,
                                        frechet_video_distance, metric_frames, per_frame_frechet,
                                        raw_dataset_cfg, real_clips, temporal_consistency)
from tests.conftest import REPO


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


@pytest.fixture(scope='module')
def clips16():
    ds = SyntheticMovingShapes(num_samples=32, num_frames=16, split='val')
    return np.stack([ds[i]['frames'] for i in range(32)])


@pytest.fixture
def i3d(tmp_path):
    path = tmp_path / 'i3d.pt'
    torch.jit.script(FakeI3D()).save(str(path))
    return str(path)


def test_fvd_needs_a_user_supplied_i3d_file(tmp_path, clips16, i3d):
    with pytest.raises(FileNotFoundError, match='i3d_path is not set.*--i3d'):
        frechet_video_distance(clips16, clips16, None)
    with pytest.raises(FileNotFoundError, match=r"i3d_path='.*missing.pt' does not exist"):
        I3DFeatures(str(tmp_path / 'missing.pt'))
    net = I3DFeatures(i3d, size=32)
    assert net(clips16[:3]).shape == (3, 9)
    fvd = frechet_video_distance(clips16[:16], clips16[16:], i3d, size=32)
    static = np.repeat(clips16[:, :1], 16, axis=1)  # frozen clips: no motion
    assert fvd['fd'] < frechet_video_distance(static[:16], clips16[16:], i3d, size=32)['fd']


def test_fvd_refuses_clips_that_are_not_16_frames(clips, clips16, i3d):
    assert FVD_NUM_FRAMES == 16
    with pytest.raises(ValueError, match='FVD needs 16-frame clips; these clips score 8 frames'):
        frechet_video_distance(clips, clips, i3d)  # T = 8 (the nuScenes length)
    with pytest.raises(ValueError, match='score 8 frames'):
        frechet_video_distance(clips16, clips, i3d)
    check_fvd_frames(18, context_frames=2)  # 16 scored frames after 2 given ones
    with pytest.raises(ValueError, match=r'score 14 frames \(16-frame clips with 2 given frames'
                                         r'.*num_frames=18'):
        check_fvd_frames(16, context_frames=2)
    with pytest.raises(ValueError, match='FVD needs 16-frame'):  # refused before any feature
        ReferenceScorer(clips, i3d_path=i3d)


def test_rank_deficient_covariance_warns(clips16, i3d):
    with pytest.warns(RankDeficientWarning, match=r'9 clips for 9-d features.*rank at most 8'):
        frechet_video_distance(clips16[:9], clips16[16:], i3d, size=32)  # FakeI3D: 9-d features
    with pytest.warns(RankDeficientWarning, match='6 frames for 6-d'):
        per_frame_frechet(clips16[:1, :6], clips16, features=mean_colour)
    with warnings.catch_warnings():
        warnings.simplefilter('error', RankDeficientWarning)
        frechet_video_distance(clips16[:10], clips16[16:26], i3d, size=32)  # 10 > 9 clips
        per_frame_frechet(clips16[:1, :7], clips16, features=mean_colour)
        full = ReferenceScorer(clips16[:2], frame_features_fn=mean_colour)(clips16[2:4])
    assert 'rank_deficient' not in full and np.isfinite(full['frame_fd'])
    score = ReferenceScorer(clips16[:1], context_frames=12, frame_features_fn=mean_colour)
    with pytest.warns(RankDeficientWarning):
        flagged = score(clips16[2:3])  # 4 scored frames per set for 6-d features
    assert flagged['rank_deficient']
    assert [w.split(',')[0] for w in score.warnings] == [
        'generated frames: 4 frames for 6-d features', 'real frames: 4 frames for 6-d features']


def test_given_frames_are_left_out_of_every_set(clips16, i3d):
    real, fake = clips16[:12], clips16[:12].copy()
    fake[:, :2] = 0  # the first two frames differ, the rest is identical
    assert metric_frames(fake, 2).shape == (12, 14, 32, 32, 3)
    assert (metric_frames(fake, 2) == real[:, 2:]).all()
    with pytest.raises(ValueError, match='context_frames=16'):
        metric_frames(fake, 16)
    scored = ReferenceScorer(real, context_frames=2, consistency=True,
                             frame_features_fn=mean_colour)
    whole = ReferenceScorer(real, context_frames=0, consistency=True,
                            frame_features_fn=mean_colour)
    assert abs(scored(fake)['frame_fd']) < 1e-6 and whole(fake)['frame_fd'] > 100
    assert scored(fake)['id_switch_rate'] == 0 < whole(fake)['id_switch_rate']
    with pytest.raises(ValueError, match='FVD needs 16-frame clips; these clips score 14'):
        ReferenceScorer(real, context_frames=2, i3d_path=i3d)
    with pytest.raises(ValueError, match='cut like the training clips'):
        scored(fake[:, :8])


def test_real_clips_are_class_balanced_and_spread_over_each_class():
    labels = np.repeat(np.arange(4), 10)  # a sorted list: 10 clips per class
    wanted = np.arange(8) % 4  # generated labels cycle over the classes
    idx = balanced_indices(labels, wanted)
    assert (labels[idx] == wanted).all() and len(set(idx.tolist())) == 8
    assert sorted(idx[wanted == 1].tolist()) == [10, 19]  # first and last clip of class 1
    assert not (idx < 8).all()  # not the first N clips in dataset order
    one_class = balanced_indices(np.zeros(100, dtype=int), np.zeros(5, dtype=int))
    assert one_class.tolist() == [0, 25, 50, 74, 99]  # unconditional: spread over the split
    with pytest.raises(ValueError, match="class 3 has 10 clips of split 'test', 11 are needed"):
        balanced_indices(labels, np.full(11, 3), 'test')


LEVEL = 12  # video v, frame i: grey level LEVEL * (2 * v + i) (MJPG keeps it within a few levels)


def write_ucf(root, videos):
    """A tiny UCF-101 tree: ``videos`` maps 'Class/v_x.avi' -> (video number, split)."""
    classes = sorted({name.split('/')[0] for name in videos})
    splits = root / 'ucfTrainTestlist'
    splits.mkdir(parents=True)
    (splits / 'classInd.txt').write_text(''.join(f'{i + 1} {c}\n' for i, c in enumerate(classes)))
    lists = {'train': '', 'test': ''}
    for name, (v, split) in videos.items():
        path = root / 'UCF-101' / name
        path.parent.mkdir(parents=True, exist_ok=True)
        writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*'MJPG'), 10.0, (16, 16))
        for i in range(4):
            writer.write(np.full((16, 16, 3), LEVEL * (2 * v + i), dtype=np.uint8))
        writer.release()
        lists[split] += f'{name} {classes.index(name.split("/")[0]) + 1}\n'
    (splits / 'trainlist01.txt').write_text(lists['train'])
    (splits / 'testlist01.txt').write_text(lists['test'])


def token_config(root):
    """A UCF-101-like config: token dataloaders, video files in extract_datasets."""
    ucf = dict(type='UCF101', data_root=str(root / 'UCF-101'),
               split_dir=str(root / 'ucfTrainTestlist'), num_frames=4)
    tokens = dict(type='TokenDataset', data_root=str(root / 'tokens'), codebook_size=8)
    return Config(dict(extract_datasets=dict(train=dict(ucf, split='train'),
                                             test=dict(ucf, split='test')),
                       train_dataloader=dict(dataset=tokens), val_dataloader=dict(dataset=tokens)))


def test_real_clips_come_from_the_video_files_never_from_tokens(tmp_path):
    videos = {f'{c}/v_{c}_g{g:02d}.avi': (v, 'train' if g < 3 else 'test')
              for v, (c, g) in enumerate((c, g) for c in ('Jump', 'Run') for g in range(4))}
    write_ucf(tmp_path, videos)
    cfg = token_config(tmp_path)
    with pytest.raises(ValueError, match=r"val_dataloader.dataset is a TokenDataset \(tokenizer "
                                         r"reconstructions.*extract_datasets\['val'\]"):
        raw_dataset_cfg(cfg, 'val')  # no fallback to reconstructions
    with pytest.raises(KeyError, match=r"splits with video files: \['train', 'test'\]"):
        raw_dataset_cfg(cfg, 'holdout')
    real = real_clips(cfg, 'train', [0, 1, 0, 1])
    assert real['frames'].shape == (4, 4, 16, 16, 3) and real['frames'].dtype == np.uint8
    # videos 0-2 are Jump/train, 4-6 Run/train: first and last of each class, decoded from the file
    video = np.round(real['frames'][:, 0].mean((1, 2, 3)) / (2 * LEVEL)).astype(int)
    assert video.tolist() == [0, 4, 2, 6] and real['labels'].tolist() == [0, 1, 0, 1]
    steps = np.diff(real['frames'].mean((2, 3, 4)), axis=1)
    assert np.allclose(steps, LEVEL, atol=3)  # raw frames: one grey step per frame
    test = real_clips(cfg, 'test', [1])
    assert round(test['frames'][0, 0].mean() / (2 * LEVEL)) == 7  # Run/v_Run_g03 is video 7


def test_synthetic_dataloader_split_keeps_frames_only():
    cfg = Config.fromfile(str(REPO / 'configs' / 'bigfix' / 'bigfix_synthetic_video.py'))
    ds = raw_dataset_cfg(cfg, 'train')
    assert ds['type'] == 'SyntheticMovingShapes' and ds['pipeline'] == []
    cfg.test_dataloader.dataset.num_samples = 24
    real = real_clips(cfg, 'test', np.arange(12) % 6)
    assert real['frames'].shape == (12, 8, 32, 32, 3)
    assert temporal_consistency(real['frames'])['consistent_clip_rate'] == 1  # real, not tokens

"""Video datasets on tiny clips written with cv2.VideoWriter into tmp dirs."""
from pathlib import Path

import cv2
import numpy as np
import pytest

from bigfix_mm.datasets.transforms.video import ResizeCropFrames, resize_crop_frames
from bigfix_mm.datasets.video import (NuScenesFrames, UCF101, VideoFolderDataset, clip_indices,
                                      decode_video, item_pixels)
from bigfix_mm.registry import DATASETS

LEVEL = 12  # frame i is filled with grey level LEVEL * i (MJPG keeps it within a few levels)


def write_video(path: Path, num_frames: int, size=(24, 32)) -> Path:
    """An MJPG .avi whose frame i is uniformly LEVEL * i grey (B=G=R)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    h, w = size
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*'MJPG'), 10.0, (w, h))
    assert writer.isOpened()
    for i in range(num_frames):
        writer.write(np.full((h, w, 3), LEVEL * i, dtype=np.uint8))
    writer.release()
    return path


def frame_ids(frames: np.ndarray) -> list:
    return [int(round(f.mean() / LEVEL)) for f in frames]


def test_clip_indices():
    assert clip_indices(20, 4, 3, 'first').tolist() == [0, 3, 6, 9]
    assert clip_indices(20, 4, 3, 'center').tolist() == [5, 8, 11, 14]  # room 10 -> start 5
    assert clip_indices(20, 4, 3, 1.0).tolist() == [10, 13, 16, 19]
    assert clip_indices(5, 4, 2, 'first').tolist() == [0, 2, 4, 4]  # padded with the last frame
    with pytest.raises(ValueError, match='fewer than the clip span'):
        clip_indices(5, 4, 2, 'first', short='error')
    rng = np.random.default_rng(0)
    starts = {clip_indices(20, 2, 1, 'random', rng)[0] for _ in range(200)}
    assert starts == set(range(19))


def test_decode_video_frame_count_stride_and_start(tmp_path):
    path = write_video(tmp_path / 'a.avi', 16)
    frames = decode_video(path, num_frames=4, stride=2, start='first')
    assert frames.shape == (4, 24, 32, 3) and frames.dtype == np.uint8
    assert frame_ids(frames) == [0, 2, 4, 6]
    assert frame_ids(decode_video(path, 4, 2, 'center')) == [4, 6, 8, 10]  # room 9 -> start 4
    assert frame_ids(decode_video(path, 3, 5, 'first')) == [0, 5, 10]
    assert frame_ids(decode_video(write_video(tmp_path / 'short.avi', 3), 5, 1, 'first')) == \
        [0, 1, 2, 2, 2]
    with pytest.raises(FileNotFoundError, match='cannot open'):
        decode_video(tmp_path / 'missing.avi', 4)


def make_folder(root: Path) -> Path:
    for cls, n in (('Jump', 2), ('Run', 1)):
        for j in range(n):
            write_video(root / cls / f'v_{cls}_g0{j}_c01.avi', 12)
    (root / 'notes.txt').write_text('not a video')
    return root


def test_video_folder_dataset_and_resize_crop(tmp_path):
    root = make_folder(tmp_path / 'clips')
    ds = DATASETS.build(dict(type='VideoFolderDataset', data_root=str(root), num_frames=4,
                             stride=1, clip_start='first',
                             pipeline=[dict(type='ResizeCropFrames', size=16)]))
    assert len(ds) == 3 and ds.metainfo['classes'] == ('Jump', 'Run')
    assert [ds.get_data_info(i)['gt_label'] for i in range(3)] == [0, 0, 1]
    item = ds[2]
    assert item['frames'].shape == (4, 16, 16, 3) and item['img_shape'] == (16, 16)
    assert frame_ids(item['frames']) == [0, 1, 2, 3]
    assert item_pixels(item).shape == (4, 16, 16, 3)
    multi = VideoFolderDataset(str(root), num_frames=4, clips_per_video=3)
    assert len(multi) == 9
    assert [frame_ids(multi[i]['frames'])[0] for i in range(3)] == [0, 4, 8]  # evenly spaced
    (root / 'list.txt').write_text('Run/v_Run_g00_c01.avi 1\nJump/v_Jump_g01_c01.avi\n')
    listed = VideoFolderDataset(str(root), ann_file='list.txt', num_frames=2)
    assert [listed.get_data_info(i)['gt_label'] for i in range(2)] == [1, 0]
    with pytest.raises(FileNotFoundError, match='data_root'):
        VideoFolderDataset(str(tmp_path / 'nope'))


def test_resize_crop_keeps_aspect_and_crops():
    frames = np.zeros((2, 20, 40, 3), dtype=np.uint8)
    frames[:, :, 18:22] = 255  # a vertical bar in the centre
    out = resize_crop_frames(frames, (10, 10))  # scale 0.5 -> 10x20, centre crop 10x10
    assert out.shape == (2, 10, 10, 3) and out[:, :, 4:6].mean() > 200 and out[:, :, 0].max() == 0
    assert ResizeCropFrames((8, 12), crop='random').transform(dict(frames=frames))['frames'].shape \
        == (2, 8, 12, 3)
    with pytest.raises(ValueError, match='crop'):
        ResizeCropFrames(8, crop='left')


def test_ucf101_official_split_files(tmp_path):
    root = make_folder(tmp_path / 'UCF-101')
    splits = tmp_path / 'ucfTrainTestlist'
    splits.mkdir()
    (splits / 'classInd.txt').write_text('1 Jump\n2 Run\n')
    (splits / 'trainlist01.txt').write_text('Jump/v_Jump_g00_c01.avi 1\nRun/v_Run_g00_c01.avi 2\n')
    (splits / 'testlist01.txt').write_text('Jump/v_Jump_g01_c01.avi\n')
    train = DATASETS.build(dict(type='UCF101', data_root=str(root), split='train', num_frames=4))
    test = UCF101(str(root), split='test', num_frames=4)  # split_dir defaults to ../ucfTrainTestlist
    assert train.metainfo['classes'] == ('Jump', 'Run')
    assert [train.get_data_info(i)['gt_label'] for i in range(2)] == [0, 1]
    assert len(test) == 1 and test.get_data_info(0)['gt_label'] == 0
    assert test[0]['frames'].shape == (4, 24, 32, 3)
    (splits / 'trainlist01.txt').write_text('Jump/v_Jump_g00_c01.avi 2\n')
    with pytest.raises(ValueError, match='classInd'):
        UCF101(str(root), split='train')
    with pytest.raises(FileNotFoundError, match='testlist02'):
        UCF101(str(root), split='test', fold=2)


def write_jpg(path: Path, level: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), np.full((18, 32, 3), level, dtype=np.uint8))


def test_nuscenes_raw_layout_groups_logs_and_splits_at_gaps(tmp_path):
    cam = tmp_path / 'sweeps' / 'CAM_FRONT'
    t0 = 1533151603512404
    for log, times in (('n008-2018-08-01-15-16-36-0400', [0, 1, 2, 3, 4, 5, 60, 61, 62]),
                       ('n015-2018-07-24-11-22-45+0800', [0, 1, 2, 3])):
        for i, dt in enumerate(times):
            write_jpg(cam / f'{log}__CAM_FRONT__{t0 + int(dt * 83_333)}.jpg', LEVEL * i)
    write_jpg(cam / 'n008-x__CAM_BACK__1.jpg', 0)  # another camera: ignored
    ds = DATASETS.build(dict(type='NuScenesFrames', data_root=str(tmp_path), layout='raw',
                             source='sweeps', num_frames=3, stride=1, max_gap_s=1.0))
    seqs = ds.sequences()
    assert sorted(len(v) for v in seqs.values()) == [3, 4, 6]  # the 60-step gap (5 s) splits n008
    assert len(ds) == 2 + 1 + 1  # non-overlapping 3-frame clips: 6 -> 2, 3 -> 1, 4 -> 1
    item = ds[0]
    assert item['frames'].shape == (3, 18, 32, 3) and item['gt_label'] == 0
    assert frame_ids(item['frames']) == [0, 1, 2]
    split = tmp_path / 'val.txt'
    split.write_text('n015-2018-07-24-11-22-45+0800\n')
    assert len(NuScenesFrames(str(tmp_path), layout='raw', source='sweeps', num_frames=3,
                              split_file=str(split))) == 1
    with pytest.raises(FileNotFoundError, match='samples/CAM_FRONT'):
        NuScenesFrames(str(tmp_path), layout='raw', source='samples')


def test_nuscenes_raw_keyframes_and_sweeps_make_an_even_stream(tmp_path):
    log, t0, dt = 'n008-2018-08-01-15-16-36-0400', 1533151603512404, 83_333  # ~12 Hz
    for i in range(18):  # every 6th frame is a key frame, stored under samples/
        source = 'samples' if i % 6 == 0 else 'sweeps'
        write_jpg(tmp_path / source / 'CAM_FRONT' / f'{log}__CAM_FRONT__{t0 + i * dt}.jpg', 10 * i)

    def spacing(ds):
        stamps = [int(Path(p).stem.rsplit('__', 1)[1]) for p in ds.get_data_info(0)['frame_paths']]
        return set(np.diff(stamps).tolist())

    sweeps = NuScenesFrames(str(tmp_path), layout='raw', source='sweeps', num_frames=8)
    assert spacing(sweeps) == {dt, 2 * dt}  # the key frames are missing: uneven clips
    both = NuScenesFrames(str(tmp_path), layout='raw', source=('samples', 'sweeps'), num_frames=8)
    assert spacing(both) == {dt} and len(both.sequences()[f'{log}#0']) == 18
    assert [round(f.mean() / 10) for f in both[1]['frames']] == list(range(8, 16))


def test_nuscenes_scene_folders_with_overlapping_clips(tmp_path):
    for scene, n in (('scene-0001', 5), ('scene-0002', 2)):
        for i in range(n):
            write_jpg(tmp_path / scene / 'CAM_FRONT' / f'{i:04d}.jpg', LEVEL * i)
    ds = NuScenesFrames(str(tmp_path), num_frames=2, stride=2, clip_step=1)
    assert len(ds) == 3  # scene-0001: starts 0, 1, 2; scene-0002 too short for span 3
    assert frame_ids(ds[1]['frames']) == [1, 3]
    with pytest.raises(FileNotFoundError, match='has 9 frames'):
        NuScenesFrames(str(tmp_path), num_frames=9)

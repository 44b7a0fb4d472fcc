"""MP4 / GIF writing and frame grids."""
import numpy as np
import torch

from bigfix_mm.visualization.video import (make_video_grid_uint8, read_video, save_gif, save_mp4, tile_clips,
                                   write_clips)


def test_mp4_and_gif_round_trip(tmp_path):
    frames = np.zeros((5, 16, 24, 3), dtype=np.uint8)
    for t in range(5):
        frames[t, :, t * 4:t * 4 + 4] = (255, 0, 0)  # a red bar moving right
    save_mp4(frames, tmp_path / 'a.mp4', fps=5, scale=2)
    save_gif(frames, tmp_path / 'a.gif', fps=5)
    mp4, gif = read_video(tmp_path / 'a.mp4'), read_video(tmp_path / 'a.gif')
    assert mp4.shape == (5, 32, 48, 3) and gif.shape == (5, 16, 24, 3)
    assert np.array_equal(gif, frames)  # GIF is lossless for these colours
    assert np.abs(mp4[3, ::2, ::2].astype(int) - frames[3]).mean() < 12
    assert not list(tmp_path.glob('.*'))  # no temp files left


def test_write_clips_files_and_grids(tmp_path):
    clips = torch.rand(3, 4, 3, 8, 8)
    paths = write_clips(clips, tmp_path / 'out', [f'{i:06d}_class0' for i in range(3)],
                        formats=('gif', ), scale=1)
    assert sorted(p.name for p in paths) == ['000000_class0.gif', '000001_class0.gif',
                                             '000002_class0.gif', 'grid.gif', 'grid.png']
    assert make_video_grid_uint8(clips).shape == (3 * 10 + 2, 4 * 10 + 2, 3)
    assert tile_clips(np.zeros((3, 4, 8, 8, 3), np.uint8)).shape == (4, 22, 22, 3)
    assert read_video(tmp_path / 'out' / 'grid.gif').shape[0] == 4

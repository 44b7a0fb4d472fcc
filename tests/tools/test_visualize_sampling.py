"""tools/visualize_sampling.py writes a PNG strip and a GIF of one sampling run."""
import subprocess
import sys

import pytest
import torch
from mmengine.config import Config
from PIL import Image

from bigfix_mm.registry import MODELS
from tests.conftest import REPO, SMALL_CONFIG
from tests.tools.test_dist_train import subprocess_env


@pytest.mark.slow  # a real tool process, over 10 s
def test_visualizer_writes_png_strip_and_gif(tmp_path):
    cfg = Config.fromfile(str(SMALL_CONFIG))
    cfg.model.transformer.update(size=None, width=32, depth=1, heads=2)
    config = tmp_path / 'tiny.py'
    cfg.dump(str(config))
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    torch.save({'state_dict': model.state_dict(), 'meta': {}}, tmp_path / 'tiny.pth')

    out = tmp_path / 'vis'
    cmd = [sys.executable, str(REPO / 'tools' / 'visualize_sampling.py'), str(config),
           str(tmp_path / 'tiny.pth'), '--labels', '0', '3', '--steps', '4', '--seed', '1',
           '--device', 'cpu', '--out', str(out)]
    proc = subprocess.run(cmd, env=subprocess_env(), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    strip = Image.open(out / 'sampling_strip.png')
    assert strip.width > (4 + 2) * 32 * 4  # 4 steps + 2 finals per row at scale 4
    gif = Image.open(out / 'sampling.gif')
    assert gif.n_frames == 4 + 1  # every step, then the two finals

"""tools/sample.py and the FixingSamplerHook, on a checkpoint of a real short run."""
import subprocess
import sys

import pytest
from mmengine.runner import Runner
from PIL import Image

from ..conftest import REPO, requires_cifar
from ..conftest import small_cfg


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    work = tmp_path_factory.mktemp('quick')
    cfg = small_cfg(work, max_iters=4)
    cfg.custom_hooks[0].update(interval=2, num_samples=6)
    Runner.from_cfg(cfg).train()
    return work


@requires_cifar
def test_hook_writes_side_by_side_grids_and_statistics(trained):
    grids = sorted((trained / 'samples').glob('*.png'))
    assert [g.name for g in grids] == ['iter_2.png', 'iter_4.png', 'val_iter_2.png',
                                       'val_iter_4.png']
    width, height = Image.open(grids[0]).size
    assert width > 2 * height  # two grids side by side
    assert list(trained.glob('*/vis_data/vis_image/fixing_vs_baseline_*.png'))
    scalars = next(trained.glob('*/vis_data/scalars.json')).read_text()
    assert 'fixing/changed_per_step' in scalars and 'fixing/fixed_share' in scalars


@requires_cifar
def test_sample_tool_writes_n_images_and_is_seeded(trained, tmp_path):
    config = trained / 'bigfix_cifar10_quick.py'
    ckpt = trained / 'iter_4.pth'

    def sample(out, seed, *extra):
        cmd = [sys.executable, str(REPO / 'tools' / 'sample.py'), str(config), str(ckpt),
               '--num', '5', '--steps', '4', '--cfg', '1.0', '--seed', str(seed), '--batch-size',
               '2', '--device', 'cpu', '--out', str(out), *extra]
        subprocess.run(cmd, check=True, cwd=REPO, capture_output=True)
        return sorted(p for p in out.glob('0*.png'))

    a = sample(tmp_path / 'a', 0, '--sampler', 'TokenFixingSampler', '--fix', 'all')
    b = sample(tmp_path / 'b', 0, '--sampler', 'TokenFixingSampler', '--fix', 'all')
    assert len(a) == 5 and (tmp_path / 'a' / 'grid.png').is_file()
    assert [p.read_bytes() for p in a] == [p.read_bytes() for p in b]
    c = sample(tmp_path / 'c', 0, '--sampler', 'HaltonSampler', '--labels', '1', '2')
    assert [p.name.split('_class')[1] for p in c] == ['1.png', '2.png', '1.png', '2.png', '1.png']

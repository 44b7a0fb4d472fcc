"""The study's figures are written as whole PNG files."""
import numpy as np
from PIL import Image

from projects.fixing_study.cells import make_cells
from projects.fixing_study.plots import plot_fd_vs_steps, plot_grid


def test_fd_against_steps_and_the_image_grid_are_pngs(tmp_path):
    cells = make_cells(['halton', 'fix_low'], [4, 8], [0.0])
    # bootstrap FDs are biased upwards: an interval may lie wholly above its point
    points = {(twin, c.name): (10.0 + c.steps, 11.0 + c.steps, 12.0 + c.steps)
              for twin in ('p=0.2', 'p=0') for c in cells}
    out = plot_fd_vs_steps(points, ['halton', 'fix_low'], ['p=0.2', 'p=0'], [4, 8], [0.0],
                           str(tmp_path / 'fd.png'), floor=5.0)
    assert Image.open(out).format == 'PNG'
    rows = {name: np.full((2, 3, 8, 8), 0.3 * i, np.float32) for i, name in enumerate(('a', 'b'))}
    grid = plot_grid(rows, str(tmp_path / 'grid.png'), title='same seeds')
    assert Image.open(grid).format == 'PNG'
    assert sorted(p.name for p in tmp_path.iterdir()) == ['fd.png', 'grid.png']  # no temp files

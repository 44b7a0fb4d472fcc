"""tools/benchmark.py and bigfix_mm.apis.benchmark on CPU, at toy shapes."""
import json
import os
import subprocess
import sys

import pytest
import torch

from bigfix_mm.apis.benchmark import (bench_sampling, bench_training, build_transformer,
                                       forward_flops, parse_size)

from tests.conftest import REPO, load_tool

TOY = ['--device', 'cpu', '--train-sizes', '32x1x2', '--sample-sizes', '32x1x2', '--batch', '2',
       '--sample-batch', '2', '--grid', '4', '4', '--codebook-size', '16', '--num-classes', '3',
       '--steps', '3', '--iters', '1', '--warmup', '1', '--repeats', '1']

# A meta-path finder that makes MMagic's model / evaluation packages and mmcv's
# compiled ops unimportable, as on a GPU machine with pure-Python wheels only.
BLOCKER = """
import importlib.abc, sys
BLOCKED = ('mmagic.models', 'mmagic.evaluation', 'mmcv.ops')
class Blocker(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.startswith(BLOCKED):
            raise ImportError('blocked for the test: ' + name, name=name)
        return None
sys.meta_path.insert(0, Blocker())
"""


def test_tool_runs_without_mmagic_models_evaluation_or_mmcv_ops():
    code = BLOCKER + f"""
import runpy
sys.argv = ['tools/benchmark.py'] + {TOY!r}
runpy.run_path('tools/benchmark.py', run_name='__main__')
from bigfix_mm.models.editors.bigfix.transformer import BidirectionalTransformer
from bigfix_mm.models.editors.bigfix.sampler import TokenFixingSampler
from bigfix_mm.core.injection import TokenInjector
from bigfix_mm.core.schedules import halton_order
loaded = [m for m in sys.modules if m.startswith(BLOCKED)]
assert not loaded, loaded
"""
    proc = subprocess.run([sys.executable, '-c', code], cwd=REPO, capture_output=True, text=True,
                          timeout=300, env=_env())
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith('{')]
    cases = [(r['case'], r.get('sampler')) for r in rows]
    assert cases == [('train', None), ('sample', 'maskgit'), ('sample', 'halton'),
                     ('sample', 'fix_low'), ('sample', 'fix_all'),
                     ('sample_relative', 'fix_all'), ('sample_relative', 'fix_low')]
    train = rows[0]
    assert train['img_per_s'] > 0 and train['tokens_per_s'] == pytest.approx(
        train['img_per_s'] * 16, rel=1e-3)
    assert rows[1]['forward_batch'] == 4 and rows[1]['steps'] == 3  # CFG doubles the batch


def _env() -> dict:
    return dict(os.environ, NO_ALBUMENTATIONS_UPDATE='1', OMP_NUM_THREADS='1')


def test_forward_flops_match_the_reference_figures():
    with torch.device('meta'):  # shapes only, no memory
        large = build_transformer('large')
    width, depth, hidden, length = 1024, 24, 2816, 257
    per_block = (2 * length * (4 * width * width + 3 * width * hidden) + 4 * length**2 * width +
                 2 * width * 6 * width)
    expected = depth * per_block + 2 * width * 2 * width + 2 * 256 * width * 16385
    assert forward_flops(large) == expected
    # reference H100: 274 img/s training at 18% of 798 TFLOP/s -> ~524 GFLOP per image
    assert 3 * forward_flops(large) == pytest.approx(0.18 * 798e12 / 274, rel=0.03)
    # and 33.4 img/s sampling (32 steps, CFG) at 47%
    assert 64 * forward_flops(large) == pytest.approx(0.47 * 798e12 / 33.4, rel=0.03)


def test_parse_size_names_and_custom():
    assert parse_size('base') == (768, 12, 12)
    assert parse_size('64x2x2') == (64, 2, 2)
    with pytest.raises(ValueError, match='WIDTHxDEPTHxHEADS'):
        parse_size('huge')


def test_bench_functions_report_throughput_and_ratio():
    row = bench_training('32x1x2', batch_size=2, grid=(4, 4), codebook_size=16, num_classes=3,
                         dtype='fp32', iters=1, warmup=1, device='cpu', peak_tflops=1.0)
    assert row['case'] == 'train' and row['mfu'] is not None and row['mfu'] > 0
    rows = bench_sampling('32x1x2', samplers=('halton', 'fix_low'), batch_size=2, steps=2,
                          cfg_scale=0.0, grid=(4, 4), codebook_size=16, num_classes=3,
                          dtype='fp32', repeats=1, warmup=0, device='cpu')
    assert [r['case'] for r in rows] == ['sample', 'sample', 'sample_relative']
    assert rows[0]['forward_batch'] == 2  # no CFG: no doubled batch
    assert rows[2]['time_ratio'] > 0
    with pytest.raises(ValueError, match='cuda-graphs'):
        bench_sampling('32x1x2', device='cpu', cuda_graphs=True, grid=(4, 4), codebook_size=16)


def test_head_cost_table_and_bit_head_cases():
    from bigfix_mm.apis.benchmark import head_costs
    rows = {(r['head'], r['bits']): r for r in head_costs(384, [10, 16, 32], dict(steps=4))}
    assert rows['softmax', 32]['params'] == (2**32 + 1) * (384 + 1)
    assert rows['softmax', 10]['train_flops'] == 2 * 384 * (2**10 + 1)
    assert rows['bit', 32]['params'] < 2 * rows['bit', 10]['params'] < rows['softmax', 10]['params']
    assert rows['bit', 16]['sample_flops'] < rows['softmax', 16]['sample_flops']
    tool = load_tool('benchmark')
    lines = tool.main(['--cases', 'heads', 'train', '--head', 'bit', '--bit-width', '16',
                       '--bit-depth', '1', '--head-cost-bits', '10'] + TOY)
    assert [r['head'] for r in lines if r['case'] == 'heads'] == ['softmax', 'bit']
    train = [r for r in lines if r['case'] == 'train']
    assert train and train[0]['head'] == 'bit' and train[0]['img_per_s'] > 0

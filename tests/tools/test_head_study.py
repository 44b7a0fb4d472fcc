"""tools/head_study.py: the head twins' configs and the interval summary."""
import math
import sys

from mmengine.config import Config


from bigfix_mm.registry import MODELS
from ..conftest import REPO

sys.path.insert(0, str(REPO / 'tools'))
import head_study as hs  # noqa: E402
from fixing_study.cells import make_cells  # noqa: E402


def test_twins_differ_only_in_the_head():
    base = Config.fromfile(str(REPO / 'configs' / 'bigfix_cifar10_bits.py'))
    base.model.tokenizer.checkpoint = None
    args = hs.parse_args([str(REPO / 'configs' / 'bigfix_cifar10_bits.py'), '--bit-depth', '1'])
    soft, bit = hs.with_head(base, 'softmax', args), hs.with_head(base, 'bit', args)
    assert soft.model.transformer.head is None and bit.model.transformer.head.depth == 1
    soft.model.transformer.pop('head')
    bit.model.transformer.pop('head')
    assert soft.pretty_text == bit.pretty_text
    model = MODELS.build(hs.with_head(base, 'softmax', args).model)
    assert type(model.transformer.head).__name__ == 'SoftmaxHead'


def test_mean_interval_and_summary():
    iv = hs.mean_interval([1.0, 2.0, 3.0])
    assert iv['mean'] == 2.0 and iv['n'] == 3 and abs(iv['half'] - 4.303 / math.sqrt(3)) < 1e-3
    assert math.isnan(hs.mean_interval([5.0])['half']) and hs.mean_interval([])['n'] == 0
    cells = make_cells(['halton'], [8], [1.0])
    results = {f'{h}_seed{s}': {cells[0].name: {'FD/fd': 10.0 + s, 'cls/acc': 50.0}}
               for h in hs.HEADS for s in (0, 1)}
    rows = hs.summary_table(results, cells, [0, 1])
    assert len(rows) == 3 and '10.50 ±' in rows[2] and '(n=2)' in rows[2]

"""projects.head_study: the two heads' configs and the interval summary."""
import math

import pytest
from mmengine.config import Config

from bigfix_mm.evaluation.classifier import CifarClassifier, save_classifier
from bigfix_mm.registry import MODELS
from projects.head_study import study as hs
from tests.conftest import REPO, requires_cifar
from projects.fixing_study.cells import make_cells


def test_the_two_head_configs_differ_only_in_the_head():
    base = Config.fromfile(str(REPO / 'configs' / 'bigfix' / 'bigfix_cifar10_bits.py'))
    base.model.tokenizer.checkpoint = None
    args = hs.parse_args([str(REPO / 'configs' / 'bigfix' / 'bigfix_cifar10_bits.py'), '--bit-depth', '1'])
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
    # the bit head 1 lower in FD for every seed: a paired difference with a zero-width interval
    for s in (0, 1):
        results[f'bit_seed{s}'][cells[0].name]['FD/fd'] -= 1.0
    cols = [c.strip() for c in hs.summary_table(results, cells, [0, 1])[2].split('|')]
    assert cols[6] == '-1.00 [-1.00, -1.00] (n=2)' and cols[9] == '+0.00 [+0.00, +0.00] (n=2)'


@pytest.mark.slow  # ~40 s: two trainings and a scored cell
@requires_cifar
def test_main_trains_samples_and_writes_the_summary(tmp_path):
    """Toy budget (pipeline check, not a result): both heads train for 2 iterations,
    one cell of 8 samples is scored against 64 real images."""
    # RGB quantisation with 4 levels: 64 = 2^6 codes, so the bit head applies
    config = tmp_path / 'bits_toy.py'
    config.write_text(f"_base_ = ['{REPO / 'configs' / 'bigfix' / 'bigfix_cifar10_quick.py'}']\n"
                      "model = dict(tokenizer=dict(levels=4))\n")
    classifier = tmp_path / 'classifier.pth'
    save_classifier(str(classifier), CifarClassifier(width=4), dict(test_acc=10.0, epochs=0))
    results = tmp_path / 'docs' / 'bit_head_results.md'
    out = hs.main([str(config), '--work-dir', str(tmp_path / 'wd'), '--seeds', '0',
                   '--iters', '2', '--batch-size', '4', '--width', '32', '--depth', '1',
                   '--heads', '2', '--workers', '0', '--bit-width', '16', '--bit-depth', '1',
                   '--samples', '8', '--samplers', 'halton', '--steps', '2',
                   '--gen-batch-size', '8', '--fd-image-size', '32', '--real-limit', '64',
                   '--classifier', str(classifier), '--results', str(results)])
    cell = make_cells(['halton'], [2], [1.0])[0].name
    assert set(out) == {'softmax_seed0', 'bit_seed0'}
    for run in out.values():
        assert run[cell]['FD/fd'] > 0 and 0 <= run[cell]['cls/acc'] <= 100
    # the two heads are different models: their samples differ
    assert out['softmax_seed0'][cell]['FD/fd'] != out['bit_seed0'][cell]['FD/fd']
    page = results.read_text()
    assert 'python -m projects.head_study' in page and '(n=1)' in page
    heads = {t.model.transformer.head.type if t.model.transformer.get('head') else 'softmax'
             for t in (Config.fromfile(str(tmp_path / 'wd' / 'configs' / f'train_{n}.py'))
                       for n in out)}
    assert heads == {'softmax', 'MaskedBitHead'}


def test_fix_ratio_applies_to_the_fixing_samplers_only():
    args = hs.parse_args(['cfg.py', '--samplers', 'halton', 'fix_low', '--fix-ratio', '0.2'])
    halton, fix = hs.head_cells(args)
    assert halton.fix_ratio is None and fix.fix_ratio == 0.2
    assert fix.sampler_cfg()['fix_ratio'] == 0.2
    assert [c.fix_ratio for c in hs.head_cells(hs.parse_args(['cfg.py']))] == [None, None]


def test_reading_states_a_direction_only_where_the_interval_excludes_zero():
    cells = make_cells(['halton'], [8], [1.0])
    name = cells[0].name
    # FD: the bit head lower by 1.0 +- 0.1 in every seed; accuracy: differences of both signs
    results = {}
    for s, (fd_gap, acc_gap) in enumerate([(-1.0, 3.0), (-1.1, -2.0), (-0.9, 0.5)]):
        results[hs.run_name('softmax', s)] = {name: {'FD/fd': 20.0, 'cls/acc': 50.0}}
        results[hs.run_name('bit', s)] = {name: {'FD/fd': 20.0 + fd_gap,
                                                 'cls/acc': 50.0 + acc_gap}}
    fd_line, acc_line = hs.reading(results, cells, [0, 1, 2])
    assert 'the bit head better than the softmax head (FD lower)' in fd_line
    assert 'no difference detected' in acc_line
    assert 'fewer than 2' in hs.reading(results, cells, [0])[0]

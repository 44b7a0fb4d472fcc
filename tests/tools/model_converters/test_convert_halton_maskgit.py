"""tools/model_converters/convert_halton_maskgit.py: the converted checkpoint in init_model, tools/sample.py,
tools/test.py (MMagic FID / IS) and a training run's load_from."""
import json
import math
import re
import shutil
import subprocess
import sys

import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner

from bigfix_mm.apis import init_model
from bigfix_mm.engine.config_checks import prepare_config
from tests.evaluation.random_inception import write_random_inception
from bigfix_mm.models.editors.bigfix.convert_halton_maskgit import ConversionError
from tests.conftest import (HALTON_MASKGIT_ROOT, REPO, SMALL_CONFIG, input_error_block,
                            load_tool, requires_cifar, requires_halton_maskgit,
                            tool_exit_status)
from tests.tools.test_train import small_cfg

# the authors' tiny random network: 64 codes, 8x8 tokens, 10 classes; RGB levels 4**3 = 64
# with a 4x pooling turn CIFAR's 32x32 images into 8x8 tokens of the same codebook
MODEL = """
_base_ = ['{repo}/configs/bigfix/bigfix_cifar10_quick_eval.py']
model = dict(
    transformer=dict(size=None, width=96, depth=2, heads=4, grid=(8, 8), num_classes=10),
    tokenizer=dict(type='RGBQuantTokenizer', levels=4, downsample=4),  # the codebook: 64
    sampler=dict(type='TokenFixingSampler', steps=8, fix='all', cfg_scale=1.0))
custom_hooks = []
"""


def run(*args, **kw):
    proc = subprocess.run([sys.executable, *map(str, args)], cwd=REPO, capture_output=True,
                          text=True, timeout=600, **kw)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


@pytest.fixture(scope='module')
def converted(tmp_path_factory):
    work = tmp_path_factory.mktemp('halton_tool')
    convert = load_tool('model_converters/convert_halton_maskgit').main
    assert convert([str(HALTON_MASKGIT_ROOT / 'tiny_random.pth'), str(work / 'tiny.pth'),
                    '--heads', '4']) == 0
    config = work / 'tiny_halton.py'
    config.write_text(MODEL.format(repo=REPO))
    return work, config, work / 'tiny.pth'


def transformer_state(path) -> dict:
    return {k: v for k, v in torch.load(path, weights_only=True)['state_dict'].items()}


@requires_halton_maskgit
def test_tool_refuses_a_file_that_does_not_fit(tmp_path):
    torch.save({'model_state_dict': {'tok_emb.weight': torch.zeros(65, 96)}}, tmp_path / 'bad.pth')
    convert = load_tool('model_converters/convert_halton_maskgit').main
    with pytest.raises(ConversionError, match='cls_emb.weight'):
        convert([str(tmp_path / 'bad.pth'), str(tmp_path / 'out.pth')])
    assert not (tmp_path / 'out.pth').exists()


@requires_halton_maskgit
def test_init_model_and_sample_tool_accept_the_converted_checkpoint(converted, tmp_path):
    work, config, ckpt = converted
    model = init_model(str(config), str(ckpt))
    expected = transformer_state(ckpt)
    assert all(torch.equal(model.state_dict()[k], v) for k, v in expected.items())
    load_tool('sample').main([str(config), str(ckpt), '--num', '4', '--labels', '0', '1',
                              '--device', 'cpu', '--out', str(tmp_path / 'samples')])
    assert len(list((tmp_path / 'samples').glob('0*_class*.png'))) == 4
    assert (tmp_path / 'samples' / 'grid.png').is_file()


@requires_halton_maskgit
def test_load_from_starts_training_from_the_converted_weights(converted, tmp_path):
    _, config, ckpt = converted
    cfg = small_cfg(tmp_path, max_iters=1)
    cfg.model = Config.fromfile(str(config)).model
    cfg.custom_hooks = [dict(type='EMAHook', momentum=0.001, update_buffers=True, priority=49)]
    cfg.load_from = str(ckpt)
    runner = Runner.from_cfg(cfg)
    runner.call_hook('before_run')  # Runner.train's order: hooks ready, then load_from
    runner.load_or_resume()
    expected = transformer_state(ckpt)
    model = runner.model.state_dict()
    ema = runner.hooks[[type(h).__name__ for h in runner.hooks].index('EMAHook')].ema_model
    ema = ema.module.state_dict()
    assert all(torch.equal(model[k], v) and torch.equal(ema[k], v) for k, v in expected.items())


@requires_halton_maskgit
@requires_cifar
@pytest.mark.slow
def test_test_tool_evaluates_fid_and_is_of_the_converted_checkpoint(converted, tmp_path):
    work, config, ckpt = converted
    inception = write_random_inception(str(tmp_path / 'random_inception.pt'), arch='tiny')
    n = 8
    config_eval = tmp_path / 'tiny_halton_eval.py'
    config_eval.write_text(f"""
_base_ = ['{config}']
test_dataloader = dict(batch_size=4, num_workers=0, dataset=dict(indices={n}))
kwargs = dict(seed=0, labels='balanced')
test_evaluator = dict(_delete_=True, type='Evaluator', metrics=[
    dict(type='LocalFrechetInceptionDistance', prefix='FID', fake_nums={n}, sample_kwargs=kwargs,
         inception_path='{inception}', inception_pkl='{tmp_path / "fid.pkl"}'),
    dict(type='LocalInceptionScore', prefix='IS', fake_nums={n}, splits=2, sample_kwargs=kwargs,
         inception_path='{inception}')])
""")
    run(REPO / 'tools' / 'test.py', config_eval, ckpt, '--work-dir', tmp_path / 'w')
    result = next((tmp_path / 'w').glob('*/*.json'))
    metrics = json.loads(result.read_text())
    assert math.isfinite(metrics['FID/fid']) and math.isfinite(metrics['IS/is'])


# the synthetic-shapes config shrunk: 64 codes, 8x8 tokens, 9 classes, width 32 (the
# converted network: width 96, 10 classes)
SHRUNK = """
_base_ = ['{base}']
model = dict(transformer=dict(size=None, width={width}, depth={depth}, heads={heads}))
train_cfg = dict(max_iters=1)
train_dataloader = dict(batch_size=2, num_workers=0, persistent_workers=False)
val_dataloader = dict(num_workers=0, persistent_workers=False, dataset=dict(num_samples=2))
test_dataloader = val_dataloader
default_hooks = dict(checkpoint=dict(interval=1))
custom_hooks = []
log_level = 'WARNING'
"""
SHAPES = r'transformer\.\S+: file \(\d+, 96\) vs model \(\d+, 32\)'


def _shrunk(tmp_path, width=32, depth=1, heads=2):
    path = tmp_path / f'shrunk_{width}.py'
    path.write_text(SHRUNK.format(base=SMALL_CONFIG, width=width, depth=depth, heads=heads))
    return str(path)


def _mismatch_argv(how: str, config: str, ckpt, work) -> list:
    return {
        'test': [config, str(ckpt), '--work-dir', str(work)],
        'load_from': [config, '--work-dir', str(work), '--cfg-options', f'load_from={ckpt}'],
        'resume': [config, '--work-dir', str(work), '--resume', str(ckpt)],
        'sample': [config, str(ckpt), '--num', '1', '--device', 'cpu', '--out', str(work)],
    }[how]


@requires_halton_maskgit
@pytest.mark.parametrize('how', ['test', 'load_from', 'resume', 'sample'])
def test_a_checkpoint_of_another_width_is_refused_naming_both_shapes(how, converted, tmp_path,
                                                                     capsys):
    """tools/test.py, load_from and --resume used to evaluate / train a partly random
    network with exit 0 (MMEngine only logs that the state dict does not match)."""
    _, _, ckpt = converted
    work = tmp_path / 'work'
    tool = 'train' if how in ('load_from', 'resume') else how
    assert tool_exit_status(tool, _mismatch_argv(how, _shrunk(tmp_path), ckpt, work)) == 2
    block = input_error_block(capsys.readouterr().err)
    assert 'does not fit the config\'s model; nothing was loaded' in block
    assert re.search(SHAPES, block), block
    assert 'partial_load' in block
    assert not list(work.rglob('*.pth')) and not list(work.rglob('*.png'))  # nothing ran
    assert not [p for p in work.rglob('*.json') if 'vis_data' in p.parts and 'scalars' in p.name]


@requires_halton_maskgit
def test_a_partial_load_is_asked_for_by_name_and_reported(converted, tmp_path, capsys):
    """Width, depth and heads of the converted network, but the synthetic config's 9
    classes: only the class embedding differs. Refused, unless --partial-load names it;
    then the run trains and the log names what kept its initial values."""
    _, _, ckpt = converted
    argv = [_shrunk(tmp_path, width=96, depth=2, heads=4), '--work-dir', str(tmp_path / 'a'),
            '--cfg-options', f'load_from={ckpt}']
    assert tool_exit_status('train', argv) == 2
    block = input_error_block(capsys.readouterr().err)
    assert 'transformer.cls_emb.weight: file (11, 96) vs model (10, 96)' in block
    argv[2] = str(tmp_path / 'b')
    assert tool_exit_status('train', argv + ['--partial-load', 'transformer.cls_emb*']) == 0
    assert 'partial_load: 1 model keys left at their initial values: transformer.cls_emb.weight' \
        in capsys.readouterr().out + ''.join(p.read_text() for p in (tmp_path / 'b').rglob('*.log'))
    assert (tmp_path / 'b' / 'iter_1.pth').is_file()


@requires_halton_maskgit
def test_a_work_dir_as_checkpoint_is_its_newest_checkpoint(converted, tmp_path, capsys):
    work, config, ckpt = converted
    run_dir = tmp_path / 'run'
    run_dir.mkdir()
    shutil.copy(ckpt, run_dir / 'iter_5.pth')
    sample = [str(config), str(run_dir), '--num', '2', '--device', 'cpu', '--out',
              str(tmp_path / 'samples')]
    assert tool_exit_status('sample', sample) == 0
    assert (tmp_path / 'samples' / 'grid.png').is_file()
    empty = tmp_path / 'empty'
    empty.mkdir()
    sample[1] = str(empty)
    assert tool_exit_status('sample', sample) == 2
    block = input_error_block(capsys.readouterr().err)
    assert f'{empty} is a directory, not a checkpoint file, and holds no checkpoint' in block


@requires_halton_maskgit
def test_the_printed_config_line_passes_the_config_check(tmp_path, capsys):
    """The hint used to state the codebook size in the transformer, which the config
    check refuses next to a tokenizer (the codebook's one owner)."""
    convert = load_tool('model_converters/convert_halton_maskgit').main
    assert convert([str(HALTON_MASKGIT_ROOT / 'tiny_random.pth'), str(tmp_path / 'tiny.pth'),
                    '--heads', '4']) == 0
    printed = capsys.readouterr().out
    line = next(text for text in printed.splitlines() if text.startswith('model = '))
    assert '# codebook: 64 codes' in printed
    config = tmp_path / 'pasted.py'
    config.write_text(f"_base_ = ['{REPO}/configs/bigfix/bigfix_cifar10_quick.py']\n{line}\n"
                      "model.update(tokenizer=dict(type='RGBQuantTokenizer', levels=4))\n")
    cfg = prepare_config(Config.fromfile(str(config)))
    assert cfg.model.transformer.codebook_size == 64

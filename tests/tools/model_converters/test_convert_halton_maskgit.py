"""tools/model_converters/convert_halton_maskgit.py: the converted checkpoint in init_model, tools/sample.py,
tools/test.py (MMagic FID / IS) and a training run's load_from."""
import json
import math
import subprocess
import sys

import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner

from bigfix_mm.apis import init_model
from tests.evaluation.random_inception import write_random_inception
from bigfix_mm.models.editors.bigfix.convert_halton_maskgit import ConversionError
from tests.conftest import (HALTON_MASKGIT_ROOT, REPO, load_tool, requires_cifar,
                        requires_halton_maskgit)
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

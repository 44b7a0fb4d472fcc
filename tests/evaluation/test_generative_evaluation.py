"""MMagic's generative loops and Evaluator driving BIGFix in real MMEngine Runner runs.

The Inception / VGG16 files here are randomly initialised stand-ins written by
``write_random_inception``: these tests check the evaluation *pipeline* only;
their FID / IS / precision-recall values mean nothing.
"""
import json
import math
from pathlib import Path

import pytest
from mmengine.config import Config
from mmengine.runner import Runner

from bigfix_mm.engine.config_checks import resolve_config

from bigfix_mm.evaluation.classifier import CifarClassifier, save_classifier
from tests.evaluation.random_inception import write_random_inception
from tests.conftest import REPO
from tests.conftest import small_cfg

EVAL_BASE = REPO / 'configs' / '_base_' / 'evaluation' / 'generative_cifar10.py'


def real_dataloader(num: int = 8) -> dict:
    """The real-image loader of generative_cifar10.py, reading ``num`` synthetic shapes."""
    loader = Config.fromfile(str(EVAL_BASE)).gen_dataloader.to_dict()
    loader.pop('_delete_')
    loader.update(batch_size=4)
    loader['dataset'] = dict(type='SyntheticShapes', num_samples=num, split='test',
                             pipeline=loader['dataset']['pipeline'])
    return loader


def tiny_classifier(path: Path) -> str:
    save_classifier(str(path), CifarClassifier(width=4), dict(test_acc=12.5))
    return str(path)


def scalars(work_dir: Path) -> list:
    return [json.loads(line) for line in next(work_dir.glob('*/vis_data/scalars.json')).open()]


def test_training_validates_with_mmagic_loops_and_all_metrics(tmp_path):
    inception = write_random_inception(str(tmp_path / 'random_inception.pt'), arch='tiny')
    cfg = small_cfg(tmp_path, max_iters=2)
    cfg.custom_hooks = []
    cfg.val_cfg = dict(type='MultiValLoop')
    cfg.val_dataloader = real_dataloader()
    kwargs = dict(seed=0, labels='balanced', steps=2)
    n = 6
    cfg.val_evaluator = dict(type='Evaluator', metrics=[
        dict(type='EfficientNetFrechetDistance', prefix='FD', fake_nums=n, image_size=64,
             real_stats=str(tmp_path / 'fd.npz'), sample_kwargs=kwargs),
        dict(type='ClassifierAccuracy', prefix='cls', fake_nums=n,
             classifier_path=tiny_classifier(tmp_path / 'cls.pth')),
        dict(type='LocalFrechetInceptionDistance', prefix='FID', fake_nums=n,
             inception_path=inception, inception_pkl=str(tmp_path / 'fid.pkl')),
        dict(type='LocalInceptionScore', prefix='IS', fake_nums=n, splits=2,
             inception_path=inception),
        dict(type='LocalPrecisionAndRecall', prefix='PR', fake_nums=n, vgg16_script=inception,
             vgg16_pkl=str(tmp_path / 'vgg.pkl')),
    ])
    Runner.from_cfg(cfg).train()
    val = [s for s in scalars(tmp_path) if 'FD/fd' in s]
    assert len(val) == 1
    for key in ('FD/fd', 'cls/acc', 'FID/fid', 'IS/is', 'PR/precision', 'PR/recall'):
        assert math.isfinite(val[0][key]), key
    assert val[0]['cls/real_acc'] == 12.5
    assert (tmp_path / 'fd.npz').is_file() and (tmp_path / 'fid.pkl').is_file()


@pytest.mark.parametrize('metric, option', [
    (dict(type='LocalFrechetInceptionDistance'), 'inception_path'),
    (dict(type='LocalInceptionScore', splits=2), 'inception_path'),
    (dict(type='LocalPrecisionAndRecall'), 'vgg16_script'),
    (dict(type='ClassifierAccuracy'), 'classifier_path'),
])
def test_missing_network_file_fails_before_any_sampling(tmp_path, monkeypatch, metric, option):
    import bigfix_mm.evaluation.metrics.local_inception as local
    monkeypatch.setattr(local, 'DEFAULT_INCEPTION', str(tmp_path / 'absent_inception.pt'))
    monkeypatch.setattr(local, 'DEFAULT_VGG16', str(tmp_path / 'absent_vgg16.pt'))
    cfg = small_cfg(tmp_path)
    cfg.test_cfg = dict(type='MultiTestLoop')
    cfg.test_dataloader = real_dataloader()
    cfg.test_evaluator = dict(type='Evaluator', metrics=[
        dict(metric, fake_nums=4, **{option: str(tmp_path / 'missing.pt')})])
    runner = Runner.from_cfg(cfg)
    calls = []
    monkeypatch.setattr(type(runner.model), 'generate_datasamples',
                        lambda self, inputs: calls.append(inputs))
    with pytest.raises(FileNotFoundError, match=f'{option}=.*missing.pt'):
        runner.test()
    assert calls == []


def test_eval_config_uses_mmagic_loops_and_inherits_the_model():
    cfg = Config.fromfile(str(REPO / 'configs' / 'bigfix' / 'bigfix_cifar10_quick_eval.py'))
    assert cfg.test_cfg == dict(type='MultiTestLoop')
    assert cfg.test_evaluator.type == 'Evaluator'
    fd = cfg.test_evaluator.metrics[0]
    assert fd.type == 'EfficientNetFrechetDistance' and fd.fake_nums == 10000
    assert fd.sample_kwargs == dict(seed=0, labels='balanced')
    assert 'indices' not in cfg.test_dataloader.dataset  # the quick config's 512 did not leak
    assert cfg.test_dataloader.dataset.pipeline[-1].gt_img is True
    assert cfg.val_cfg.type == 'ValLoop'  # validation keeps the token metrics
    assert cfg.model.tokenizer.levels == 6  # 216 codes: the quick config's model
    assert resolve_config(cfg).model.transformer.codebook_size == 216

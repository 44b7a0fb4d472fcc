"""Real MMEngine Runner runs of the quick config, shrunk to seconds."""
import json

from mmengine.config import Config
from mmengine.runner import Runner

from ..conftest import REPO, requires_cifar, small_cfg

QUICK = REPO / 'configs' / 'bigfix_cifar10_quick.py'


def test_config_inheritance_and_overrides():
    cfg = Config.fromfile(str(QUICK))
    assert cfg.default_scope == 'mmagic'
    assert cfg.model.type == 'BIGFix'
    assert cfg.model.transformer.size == 'tiny'  # from _base_/models
    assert cfg.model.tokenizer.levels == 6  # the quick config's: 216 codes
    assert cfg.optim_wrapper.optimizer.weight_decay == 0.03  # from _base_/schedules
    assert cfg.optim_wrapper.optimizer.lr == 1e-3
    big = Config.fromfile(str(REPO / 'configs' / 'bigfix_imagenet256.py'))
    assert big.model.transformer.size == 'large'
    assert big.optim_wrapper.type == 'AmpOptimWrapper' and big.optim_wrapper.dtype == 'bfloat16'
    assert big.param_scheduler[0].end == 2500
    assert big.train_dataloader.batch_size * 8 == 256


@requires_cifar
def test_runner_trains_validates_checkpoints_and_resumes(tmp_path):
    runner = Runner.from_cfg(small_cfg(tmp_path))
    runner.train()
    assert (tmp_path / 'iter_4.pth').is_file()
    assert (tmp_path / 'last_checkpoint').read_text().strip().endswith('iter_4.pth')
    scalars = [json.loads(line) for line in next(tmp_path.glob('*/vis_data/scalars.json')).open()]
    assert any('token/fix_acc' in s for s in scalars)  # validation ran
    assert any('loss' in s and 'masked_acc' in s for s in scalars)

    cfg = small_cfg(tmp_path, max_iters=6)
    cfg.resume = True
    resumed = Runner.from_cfg(cfg)
    resumed.train()
    assert resumed.iter == 6
    assert (tmp_path / 'iter_6.pth').is_file()

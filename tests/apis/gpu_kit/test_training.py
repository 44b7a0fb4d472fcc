"""The kit's training checks: the config they write, and FSDP resume on the CPU."""
import pytest
from mmengine.config import Config

from bigfix_mm.datasets import TokenDataset
from bigfix_mm.apis.gpu_kit.training import (FULL, TINY, fsdp_check, train_config,
                                              write_synthetic_tokens)

from tests.conftest import REPO


def test_the_config_is_the_imagenet_one_with_the_sampler_hook(tmp_path):
    data = write_synthetic_tokens(tmp_path / 'tokens', FULL)
    assert len(TokenDataset(str(data), codebook_size=16384, grid=(16, 16))) == 256
    path = train_config(REPO, tmp_path / 'cfg.py', tmp_path / 'work', data, FULL, 'cuda',
                        kill_after=23)
    cfg = Config.fromfile(str(path), import_custom_modules=False)  # registers no SelfKillHook
    assert cfg.model.transformer.codebook_size == 16384 and cfg.model.transformer.grid == (16, 16)
    assert cfg.optim_wrapper.type == 'AmpOptimWrapper' and cfg.optim_wrapper.dtype == 'bfloat16'
    hooks = [h['type'] for h in cfg.custom_hooks]
    assert hooks == ['EMAHook', 'FixingSamplerHook', 'SelfKillHook']
    assert cfg.custom_hooks[2].at_iter == 23
    assert 'bigfix_mm.apis.gpu_kit.kill_hook' in cfg.custom_imports.imports
    assert cfg.val_cfg is None and cfg.train_cfg.max_iters == 40
    cpu = Config.fromfile(str(train_config(REPO, tmp_path / 'cpu.py', tmp_path / 'w', data, TINY,
                                           'cpu', fsdp=True)))
    assert cpu.optim_wrapper.type == 'OptimWrapper' and 'dtype' not in cpu.optim_wrapper
    assert cpu.strategy.type == 'BIGFixFSDPStrategy' and cpu.custom_hooks == []
    assert cpu.strategy.model_wrapper.device_id == 'cpu'


@pytest.mark.slow  # two tools/train.py processes under FlexibleRunner (about a minute)
def test_fsdp_step_checkpoint_and_resume_on_cpu(tmp_path):
    """MMEngine's own FSDPStrategy raised TypeError on --resume (optimizer state) here."""
    (row, ) = fsdp_check(REPO, tmp_path, TINY, 'cpu')
    assert row['ok'] and row['resumed_with_optimizer_state'] and row['loaded_into_plain_model']
    assert row['loss_step1'] != row['loss_step2']

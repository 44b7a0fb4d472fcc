"""Every config key is read by something: typos are refused, through tools/train.py,
before anything is built (path, nearest valid name, exit status 2)."""
import pytest
from mmengine.config import Config

from bigfix_mm.engine.config_checks import PROJECT_KEYS, RESOLVED_KEY, ConfigError, prepare_config
from bigfix_mm.engine.config_keys import accepted_arguments, unknown_key_problems

from tests.conftest import REPO, SMALL_CONFIG, input_error_block, tool_exit_status


@pytest.mark.parametrize('option, shown', [
    # ignored by MMEngine: the config's 400 iterations would run
    ('train_cfgg.max_iters=5', "train_cfgg: no config file sets it (a --cfg-options key?) and "
                               "neither the runner nor bigfix_mm reads it (did you mean "
                               "'train_cfg'?)"),
    # a **kwargs of CheckpointHook: failed at the first save, after the whole training
    ('default_hooks.checkpoint.intervall=1', "default_hooks.checkpoint.intervall: CheckpointHook "
                                             "has no argument 'intervall' (did you mean "
                                             "'interval'?)"),
    # kept by BIGFix for sampling: the training ended with exit 0, tools/sample.py failed
    ('model.sampler.stepss=4', "model.sampler.stepss: TokenFixingSampler has no argument "
                               "'stepss' (did you mean 'steps'?)"),
    ('model.injection.injection_probb=0.1', "model.injection.injection_probb: TokenInjector has "
                                            "no argument 'injection_probb' (did you mean "
                                            "'injection_prob'?)"),
    ('custom_hooks.0.intervall=3', "custom_hooks[0].intervall: FixingSamplerHook has no "
                                   "argument 'intervall'"),
    ('train_dataloader.batchsize=3', "train_dataloader.batchsize: DataLoader has no argument "
                                     "'batchsize' (did you mean 'batch_size'?)"),
    ('load_fromm=x.pth', "load_fromm: no config file sets it"),
])
def test_train_tool_refuses_a_typo_before_anything_runs(option, shown, tmp_path, capsys):
    work = tmp_path / 'work'
    argv = [str(SMALL_CONFIG), '--work-dir', str(work), '--cfg-options', option]
    assert tool_exit_status('train', argv) == 2
    block = input_error_block(capsys.readouterr().err)
    assert 'ConfigError' in block and shown in block
    assert not work.exists()  # no runner, no work dir, nothing trained


def test_sample_tool_refuses_a_typo_in_the_model(tmp_path, capsys):
    config = tmp_path / 'typo.py'
    config.write_text(f"_base_ = ['{SMALL_CONFIG}']\nmodel = dict(sampler=dict(stepss=4))\n")
    argv = [str(config), str(tmp_path / 'x.pth'), '--num', '1', '--device', 'cpu', '--out',
            str(tmp_path / 'out')]
    assert tool_exit_status('sample', argv) == 2
    block = input_error_block(capsys.readouterr().err)
    assert "model.sampler.stepss: TokenFixingSampler has no argument 'stepss'" in block
    assert not (tmp_path / 'out').exists()


def _config(tmp_path, text: str) -> Config:
    path = tmp_path / 'child.py'
    path.write_text(f"_base_ = ['{SMALL_CONFIG}']\n{text}")
    return Config.fromfile(str(path))


def test_the_config_variables_rule(tmp_path):
    """Read variables and unread ones far from every key pass; an unread one within
    difflib 0.8 of a key is a typo."""
    cfg = _config(tmp_path, 'iters = 7\ntrain_cfg = dict(max_iters=iters)\n'
                            "notes = 'a run for the docs'\nextra_metric = dict(type='X')\n"
                            'custom_hookss = []\n')
    assert cfg.train_cfg.max_iters == 7
    problems = unknown_key_problems(cfg)
    assert problems == ["custom_hookss: not a runner or bigfix_mm key, nor used by the config "
                        "files (did you mean 'custom_hooks'?)"]


def test_a_dump_of_a_config_with_presets_passes(tmp_path):
    """A run's dump (what a work dir holds) has every reference resolved: its base
    presets (gen_test_cfg, close to test_cfg) pass as in the source; a key only
    --cfg-options sets is still refused."""
    cfg = prepare_config(Config.fromfile(str(REPO / 'configs' / 'bigfix' / 'bigfix_cifar10_quick_eval.py')))
    cfg.dump(str(tmp_path / 'dump.py'))
    prepare_config(Config.fromfile(str(tmp_path / 'dump.py')))
    dumped = Config.fromfile(str(tmp_path / 'dump.py'))
    dumped.merge_from_dict({'test_cfgg.x': 1})
    problems = unknown_key_problems(dumped, PROJECT_KEYS, dump_marker=RESOLVED_KEY)
    assert [p.split(':')[0] for p in problems] == ['test_cfgg']


def test_kwargs_are_followed_to_what_receives_them():
    from mmengine.hooks import CheckpointHook, EMAHook
    from bigfix_mm.models.tokenizers import VQGANTokenizer
    # CheckpointHook's **kwargs go to Runner.save_checkpoint, which the hook already
    # gives every argument: only the hook's own remain
    hook = accepted_arguments(CheckpointHook, {})
    assert 'interval' in hook and 'max_keep_ckpts' in hook and 'meta' not in hook
    # EMAHook's go to its ema_type model; VQGANTokenizer's to VQAutoencoder
    assert {'momentum', 'update_buffers'} <= accepted_arguments(EMAHook, {})
    assert 'intervall' not in accepted_arguments(EMAHook, {})
    assert {'ch', 'codebook_size', 'quantizer'} <= accepted_arguments(VQGANTokenizer, {})


def test_every_problem_is_reported_at_once():
    cfg = Config.fromfile(str(SMALL_CONFIG))
    cfg.merge_from_dict({'model.sampler.stepss': 4, 'model.transformer.codebook_size': 64,
                         'optim_wrapper.optimizer.lrr': 1.0})
    with pytest.raises(ConfigError) as err:
        prepare_config(cfg)
    assert len(err.value.problems) == 3  # two keys and a fact stated twice
    assert 'codebook size is set in two places' in str(err.value)

"""One --cfg-options key per fact, through tools/train.py: the injection probability and
mode (model.injection) wherever the corruption runs, and the codebook size (its owner)."""
import json
from pathlib import Path
from typing import List

import pytest

from tests.conftest import REPO, SMALL_CONFIG, load_tool, tool_exit_status

IMAGES = SMALL_CONFIG  # injects in the data pipeline
VIDEO = REPO / 'configs' / 'bigfix' / 'bigfix_synthetic_video.py'  # injects batched in the model
VIDEO_SLOW = pytest.param(VIDEO, marks=pytest.mark.slow)  # builds the video model: ~8 s


def train(tmp_path: Path, config: Path, options: List[str], iters: int = 3) -> List[dict]:
    """tools/train.py (its command line, in this process) on a shrunk child of ``config``;
    the batches the loss saw."""
    probe = tmp_path / 'batches.json'
    child = tmp_path / 'child.py'
    child.write_text(f"""_base_ = [{str(config)!r}]
custom_imports = dict(imports=['bigfix_mm', 'tests.tools.probe_hooks'], allow_failed_imports=False)
model = dict(transformer=dict(size=None, width=32, depth=1, heads=2))
train_cfg = dict(max_iters={iters}, val_interval=1000)
val_cfg = None
val_dataloader = None
val_evaluator = None
train_dataloader = dict(batch_size=8, num_workers=0, persistent_workers=False)
param_scheduler = []
default_hooks = dict(logger=dict(interval=1), checkpoint=dict(interval=1000, save_last=False))
custom_hooks = [dict(type='CorruptionProbeHook', out_file={str(probe)!r})]
log_level = 'WARNING'
experiment_name = {tmp_path.name!r}  # MMEngine's logger / visualizer names, one per run
""")
    load_tool('train').main([str(child), '--work-dir', str(tmp_path / 'work'),
                             '--cfg-options', *options])
    batches = json.loads(probe.read_text())
    assert len(batches) == iters
    return batches


@pytest.mark.parametrize('config', [IMAGES, VIDEO_SLOW],
                         ids=['pipeline', 'model'])
def test_p0_injects_nothing_in_any_batch(tmp_path, config):
    batches = train(tmp_path, config, ['model.injection.injection_prob=0'])
    assert all(b['visible'] > 0 and b['injected'] == 0 for b in batches), batches


@pytest.mark.parametrize('config', [IMAGES, VIDEO_SLOW],
                         ids=['pipeline', 'model'])
def test_p_half_injects_half_the_visible_tokens(tmp_path, config):
    # uniform ids: a drawn id equals the clean one with probability 1/K only
    batches = train(tmp_path, config, ['model.injection.injection_prob=0.5',
                                       'model.injection.mode=uniform'])
    injected = sum(b['injected'] for b in batches)
    visible = sum(b['visible'] for b in batches)
    k = batches[0]['codebook_size']
    assert visible > 300 and abs(injected / visible - 0.5 * (1 - 1 / k)) < 0.06, batches


@pytest.mark.parametrize('config, key', [
    (IMAGES, 'model.tokenizer.levels=5'),
    pytest.param(VIDEO, 'model.tokenizer.tokenizer.levels=5', marks=pytest.mark.slow)],
    ids=['pipeline', 'model'])
def test_codebook_size_from_one_key(tmp_path, config, key):
    # the tokenizer owns the codebook: 5 levels per channel -> 125 codes for the model,
    # the pipeline's tokenize transform and the validation injection alike
    batches = train(tmp_path, config, [key], iters=2)
    assert {b['codebook_size'] for b in batches} == {125}
    assert max(b['max_id'] for b in batches) >= 64  # ids only 125 codes can give


def test_injection_set_twice_is_rejected_naming_both_places(tmp_path, capsys):
    child = tmp_path / 'twice.py'
    child.write_text(f"_base_ = [{str(VIDEO)!r}]\n"
                     "val_dataloader = dict(dataset=dict(pipeline=[\n"
                     "    dict(type='TokenizeVideo', keep_frames=False),\n"
                     "    dict(type='RandomTokenInjection', injection_prob=0.5, seed=1),\n"
                     "    dict(type='PackTokenInputs')]))\n")
    assert tool_exit_status('train', [str(child), '--work-dir', str(tmp_path / 'work')]) == 2
    err = capsys.readouterr().err
    assert 'injection is set in two places' in err
    assert 'model.injection=' in err
    assert 'val_dataloader.dataset.pipeline[1] (RandomTokenInjection)' in err
    assert not (tmp_path / 'work').exists()

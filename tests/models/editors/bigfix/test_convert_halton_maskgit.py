"""The authors' checkpoints <-> ours: logits, published layouts, round trip, safety."""
import json

import numpy as np
import pytest
import torch
from mmengine.config import Config

from bigfix_mm.engine.checkpoint import CheckpointError
from bigfix_mm.models.editors.bigfix.convert_halton_maskgit import (ConversionError, convert_to_ours,
                                                     convert_to_theirs, extract_their_state,
                                                     infer_arch, load_their_checkpoint, to_ours,
                                                     to_theirs)
from bigfix_mm.models.editors.bigfix.transformer import BidirectionalTransformer

from tests.conftest import HALTON_MASKGIT_ROOT, REPO, requires_halton_maskgit

TINY = HALTON_MASKGIT_ROOT / 'tiny_random.pth'
PUBLISHED = ['ImageNet_256_tiny', 'ImageNet_256_small', 'ImageNet_256_base', 'ImageNet_384_small',
             'ImageNet_384_base', 'ImageNet_384_large']
TINY_HEADS = 4  # Transformer(hidden_dim=96, depth=2, heads=4): not a published size


def build(cfg: dict, device: str = 'cpu') -> BidirectionalTransformer:
    with torch.device(device):
        return BidirectionalTransformer(**{k: v for k, v in cfg.items() if k != 'type'})


def shapes(model: torch.nn.Module) -> dict:
    return {k: tuple(v.shape) for k, v in model.state_dict().items()}


@pytest.fixture(scope='module')
def converted(tmp_path_factory):
    """(transformer config, converted checkpoint path) of the tiny random checkpoint."""
    out = tmp_path_factory.mktemp('halton') / 'tiny.pth'
    cfg = convert_to_ours(TINY, out, heads=TINY_HEADS)
    return cfg, out


def load_converted(cfg: dict, path) -> BidirectionalTransformer:
    ckpt = torch.load(path, weights_only=True)
    assert set(ckpt) == {'meta', 'state_dict'}  # no optimizer state
    model = build(cfg).eval()
    model.load_state_dict({k[len('transformer.'):]: v for k, v in ckpt['state_dict'].items()},
                          strict=True)
    return model


@requires_halton_maskgit
def test_converted_tiny_checkpoint_gives_their_logits(converted):
    cfg, path = converted
    assert cfg == dict(type='BidirectionalTransformer', codebook_size=64, grid=(8, 8),
                       num_classes=10, num_registers=1, size=None, width=96, depth=2, heads=4)
    io = np.load(HALTON_MASKGIT_ROOT / 'tiny_random_io.npz')
    model = load_converted(cfg, path)
    with torch.no_grad():  # their drop: True replaces the label by the null row (10)
        logits = model(torch.from_numpy(io['code']), torch.from_numpy(io['labels']),
                       torch.from_numpy(io['drop']))
    ref = torch.from_numpy(io['logits'])
    assert logits.shape == ref.shape == (6, 64, 65)
    diff = (logits - ref).abs().max().item()
    print(f'max |logits - theirs| = {diff:.3e}')
    assert diff <= 1e-5


@requires_halton_maskgit
@pytest.mark.parametrize('name', PUBLISHED)
def test_published_layout_maps_onto_the_config_transformer(name):
    layout = json.loads((HALTON_MASKGIT_ROOT / 'published_layouts.json').read_text())[name]
    theirs = {k: torch.empty(shape, device='meta') for k, shape in layout.items()}
    cfg = Config.fromfile(str(REPO / 'configs' / 'halton_maskgit' / f'{name}.py'))
    model = build(cfg.model.transformer.to_dict(), device='meta')
    expected = shapes(model)
    ours = to_ours(theirs, expected, source=name)  # every key used, every shape checked
    assert {k: tuple(v.shape) for k, v in ours.items()} == expected
    inferred = infer_arch(theirs, source=name)  # shapes + size table -> the config's transformer
    assert shapes(build(inferred, device='meta')) == expected
    assert inferred['size'] == cfg.model.transformer.size
    assert tuple(inferred['grid']) == tuple(cfg.model.transformer.grid)


@requires_halton_maskgit
def test_round_trip_ours_theirs_ours_is_identical(converted, tmp_path):
    cfg, path = converted
    ours = {k[len('transformer.'):]: v for k, v in torch.load(path)['state_dict'].items()}
    theirs = to_theirs(ours)
    original = load_their_checkpoint(TINY)
    assert set(theirs) == set(original)
    assert all(torch.equal(theirs[k], original[k]) for k in original)
    again = to_ours(theirs, shapes(build(cfg)))
    assert set(again) == set(ours) and all(torch.equal(again[k], ours[k]) for k in ours)
    # through the files as well
    convert_to_theirs(path, tmp_path / 'theirs.pth')
    back = torch.load(tmp_path / 'theirs.pth', weights_only=True)
    assert back['optimizer_state_dict'] is None
    convert_to_ours(tmp_path / 'theirs.pth', tmp_path / 'ours.pth', heads=TINY_HEADS)
    final = torch.load(tmp_path / 'ours.pth')['state_dict']
    assert all(torch.equal(final['transformer.' + k], v) for k, v in ours.items())


@requires_halton_maskgit
def test_prefixes_and_bare_state_dicts_are_accepted():
    state = load_their_checkpoint(TINY)
    wrapped = {'iter': 1, 'model_state_dict': {'module._orig_mod.' + k: v for k, v in state.items()}}
    for obj in (wrapped, {'_orig_mod.' + k: v for k, v in state.items()}, state):
        got = extract_their_state(obj)
        assert set(got) == set(state)


@requires_halton_maskgit
@pytest.mark.parametrize('edit, match', [
    (lambda s: s.pop('transformer.layers.1.ff.w2.weight'), 'transformer.layers.1.ff.w2.weight'),
    (lambda s: s.update(extra=torch.zeros(1)), 'unexpected keys.*extra'),
    (lambda s: s.update({'head.bias': torch.zeros(7)}), r'head.bias: file \(7,\) vs Halton-MaskGIT'),
])
def test_mismatches_name_the_key(edit, match):
    state = dict(load_their_checkpoint(TINY))
    edit(state)
    with pytest.raises(ConversionError, match=match):
        to_ours(state, shapes(build(infer_arch(load_their_checkpoint(TINY), heads=TINY_HEADS))))


@requires_halton_maskgit
def test_heads_outside_the_size_table_must_be_given():
    with pytest.raises(ConversionError, match='--heads'):
        infer_arch(load_their_checkpoint(TINY))
    with pytest.raises(ConversionError, match='attention width'):
        infer_arch(load_their_checkpoint(TINY), heads=5)


class _WritesAFile:
    """Unpickling this calls ``open(path, 'w')``: it would create the file."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return open, (self.path, 'w')


def test_a_crafted_pickle_does_not_run(tmp_path):
    marker = tmp_path / 'pwned.txt'
    evil = tmp_path / 'evil.pth'
    torch.save({'model_state_dict': {'tok_emb.weight': torch.zeros(2, 2)},
                'optimizer_state_dict': _WritesAFile(marker)}, evil)
    with pytest.raises(CheckpointError, match='allow-list'):
        convert_to_ours(evil, tmp_path / 'out.pth')
    assert not marker.exists() and not (tmp_path / 'out.pth').exists()


@requires_halton_maskgit
def test_published_configs_use_their_sampler_settings():
    """CFG weight and token grid from the table of the fixtures' README; 32 Halton steps,
    every placed token re-sampled (their code), LlamaGen VQ-16."""
    rows = [line.split('|')[1:-1] for line in
            (HALTON_MASKGIT_ROOT / 'README.md').read_text().splitlines()
            if line.startswith('| ImageNet_')]
    assert sorted(r[0].strip() for r in rows) == sorted(PUBLISHED)
    for name, _, tokens, w, _, _ in rows:
        model = Config.fromfile(str(REPO / 'configs' / 'halton_maskgit' / f'{name.strip()}.py')).model
        assert model.sampler.cfg_scale == float(w)
        assert model.sampler.steps == 32 and model.sampler.reveal == 'halton'
        assert model.sampler.fix == 'all'
        assert 'x'.join(map(str, model.transformer.grid)) == tokens.strip()
        assert model.tokenizer.arch == 'llamagen-vq16'

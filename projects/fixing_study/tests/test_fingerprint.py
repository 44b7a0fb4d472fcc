"""Cells are cached by sampler behaviour: a no-op refactor keeps the key, a change of
behaviour changes exactly the keys of the samplers it affects."""
import pytest
import torch

from bigfix_mm.models.editors.bigfix.sampler.presets import sampler_config
from bigfix_mm.registry import MODELS
from projects.fixing_study.fingerprint import Fingerprints, fill_by_name, sampler_fingerprint

TRANSFORMER = dict(type='BidirectionalTransformer', grid=(8, 8), num_classes=3,
                   num_registers=1)
PRESETS = ('maskgit', 'halton', 'fix_all', 'fix_low')


@pytest.fixture(scope='module')
def probe():
    return Fingerprints(TRANSFORMER, codebook_size=16).probe


def keys(probe):
    return {name: sampler_fingerprint(sampler_config(name, steps=4, cfg_scale=1.0), probe)
            for name in PRESETS}


def test_every_preset_has_its_own_stable_key(probe):
    first, again = keys(probe), keys(probe)
    assert first == again
    assert len(set(first.values())) == len(PRESETS)
    other_steps = sampler_fingerprint(sampler_config('fix_low', steps=8, cfg_scale=1.0), probe)
    assert other_steps != first['fix_low']


def test_probe_weights_depend_on_names_not_creation_order():
    a = fill_by_name(torch.nn.ModuleDict(dict(x=torch.nn.Linear(3, 2), y=torch.nn.Linear(2, 2))))
    b = fill_by_name(torch.nn.ModuleDict(dict(y=torch.nn.Linear(2, 2), x=torch.nn.Linear(3, 2))))
    for name, param in a.named_parameters():
        assert torch.equal(param, dict(b.named_parameters())[name])


def test_a_refactor_that_changes_no_token_keeps_every_key(probe, monkeypatch):
    before = keys(probe)
    cls = MODELS.get('TokenFixingSampler')
    original = cls.__call__

    def rewritten(self, *args, **kwargs):  # the same behaviour, other code
        out = original(self, *args, **kwargs)
        return out.clone()

    monkeypatch.setattr(cls, '__call__', rewritten)
    assert keys(probe) == before


def test_a_changed_sampler_changes_exactly_its_keys(probe, monkeypatch):
    before = keys(probe)
    cls = MODELS.get('TokenFixingSampler')
    original = cls.__call__

    def changed(self, *args, **kwargs):  # a behaviour change in the fixing sampler only
        out = original(self, *args, **kwargs)
        return (out + 1) % 16

    monkeypatch.setattr(cls, '__call__', changed)
    after = keys(probe)
    assert after['fix_all'] != before['fix_all'] and after['fix_low'] != before['fix_low']
    assert after['halton'] == before['halton'] and after['maskgit'] == before['maskgit']

"""The sampler preset table: one name per preset, overrides checked."""
import pytest

from bigfix_mm.models.editors.bigfix.sampler import (FIXING_TWINS, SAMPLER_PRESETS, HaltonSampler,
                                       MaskGITSampler, TokenFixingSampler, build_sampler,
                                       sampler_config)


def test_every_preset_builds_with_its_overrides():
    kinds = {'maskgit': MaskGITSampler, 'halton': HaltonSampler, 'fix_all': TokenFixingSampler,
             'fix_low': TokenFixingSampler, 'maskgit_fix_low': TokenFixingSampler}
    assert set(SAMPLER_PRESETS) == set(kinds)
    for name, cls in kinds.items():
        sampler = build_sampler(name, steps=5, cfg_scale=1.5)
        assert type(sampler) is cls and sampler.steps == 5 and sampler.cfg_scale == 1.5
    low = build_sampler('fix_low', steps=8, fix_ratio=0.2, fix_window=(0.5, 1.0))
    assert (low.reveal, low.fix, low.fix_ratio, low.fix_window) == \
        ('halton', 'low_confidence', 0.2, (0.5, 1.0))
    assert build_sampler('fix_all').fix == 'all'
    assert build_sampler('maskgit_fix_low').reveal == 'confidence'
    # each fixing preset's twin reveals in the same order and never fixes
    for fixer, plain in FIXING_TWINS.items():
        a, b = build_sampler(fixer), build_sampler(plain)
        assert a.reveal == b.reveal and b.fix == 'none' != a.fix


def test_bad_names_and_overrides_name_the_fix():
    with pytest.raises(ValueError, match="'greedy' is not one of"):
        sampler_config('greedy')
    with pytest.raises(ValueError, match='never fixes'):
        sampler_config('halton', fix_ratio=0.2)
    with pytest.raises(ValueError, match='pick another preset'):
        sampler_config('halton', fix='all')
    assert sampler_config('halton', steps=None) == dict(type='HaltonSampler')  # None: default
    assert SAMPLER_PRESETS['fix_low']['fix_ratio'] == 0.1  # the table is not mutated
    sampler_config('fix_low', fix_ratio=0.3)
    assert SAMPLER_PRESETS['fix_low']['fix_ratio'] == 0.1

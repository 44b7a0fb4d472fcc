"""bigfix_mm/core/checkpoint.py: EMA / raw weights of a checkpoint and layout mismatches."""
import torch

from bigfix_mm.core.checkpoint import layout_mismatches, mmengine_state_dict


def test_layout_mismatches_name_every_kind_of_difference():
    expected = {'a.weight': (4, 2), 'a.bias': (4,), 'b.weight': (3, 3)}
    assert layout_mismatches({k: torch.zeros(s) for k, s in expected.items()}, expected) == []
    state = {'a.weight': torch.zeros(4, 3), 'a.bias': torch.zeros(4), 'extra': torch.zeros(1)}
    lines = layout_mismatches(state, expected, found='file', wanted='model')
    assert lines == ['  shape mismatches (1): a.weight: file (4, 3) vs model (4, 2)',
                     '  missing keys (1): b.weight',
                     '  unexpected keys (1): extra']


def test_only_the_first_few_of_each_kind_are_listed():
    expected = {f'k{i}': (1,) for i in range(9)}
    lines = layout_mismatches({}, expected, shown=3)
    assert lines == ['  missing keys (9): k0, k1, k2']


def test_ema_and_raw_weights():
    ckpt = dict(state_dict={'w': torch.ones(1)}, ema_state_dict={'module.w': torch.zeros(1),
                                                                 'steps': torch.tensor(3)})
    assert mmengine_state_dict(ckpt)['w'].item() == 1.0
    assert mmengine_state_dict(ckpt, use_ema=False)['w'].item() == 0.0
    assert mmengine_state_dict({'w': torch.ones(1)}) is None


def test_save_checkpoint_file_is_atomic(tmp_path, monkeypatch):
    """A save that fails midway leaves the previous file whole and no temporary file."""
    import pytest
    from bigfix_mm.core.checkpoint import load_checkpoint_file, save_checkpoint_file
    path = tmp_path / 'ckpt.pth'
    save_checkpoint_file({'w': torch.ones(3)}, path)
    assert torch.equal(load_checkpoint_file(path)['w'], torch.ones(3))

    def broken_save(obj, f, *args, **kwargs):
        open(f, 'wb').write(b'half')
        raise OSError('disk full')

    monkeypatch.setattr(torch, 'save', broken_save)
    with pytest.raises(OSError, match='disk full'):
        save_checkpoint_file({'w': torch.zeros(3)}, path)
    assert torch.equal(load_checkpoint_file(path)['w'], torch.ones(3))
    assert [p.name for p in tmp_path.iterdir()] == ['ckpt.pth']


def test_strip_prefixes_any_nesting():
    from bigfix_mm.core.checkpoint import strip_prefixes
    assert list(strip_prefixes({'module._orig_mod.a.weight': 1, 'b': 2})) == ['a.weight', 'b']

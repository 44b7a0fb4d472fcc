"""Checkpoint unwrapping, taming <-> native renaming and code-free reading of published files."""
import argparse
import os

import pytest
import torch

from bigfix_mm.engine.checkpoint import CheckpointError
from bigfix_mm.models.editors.vqgan import VQAutoencoder
from bigfix_mm.models.tokenizers.convert import (convert_checkpoint, extract_state_dict,
                                                 is_taming_layout, load_native, load_tensors_only,
                                                 native_to_taming, taming_to_native)


class _Payload:
    """Unpickling this with plain pickle would create a file (stands in for arbitrary code)."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, 'w'))


def test_taming_round_trip_is_lossless(tiny_vq_arch):
    native = VQAutoencoder(**tiny_vq_arch).state_dict()
    taming = native_to_taming(native)
    assert is_taming_layout(taming) and not is_taming_layout(native)
    assert 'encoder.down.0.block.0.conv1.weight' in taming
    assert 'decoder.up.0.block.1.conv2.weight' in taming  # level 0 = full resolution
    assert 'decoder.mid.attn_1.q.weight' in taming
    back = taming_to_native(taming)
    assert back.keys() == native.keys()
    assert all(torch.equal(back[k], native[k]) for k in native)


def test_unwrapping_prefers_ema_and_strips_prefixes(tiny_vq_arch):
    sd = VQAutoencoder(**tiny_vq_arch).state_dict()
    ema = {k: v + 1 for k, v in sd.items()}
    got = extract_state_dict({'model': sd, 'ema': ema, 'steps': 3})
    assert torch.equal(got['quant_conv.weight'], ema['quant_conv.weight'])
    got = extract_state_dict({'model': sd, 'ema': ema}, use_ema=False)
    assert torch.equal(got['quant_conv.weight'], sd['quant_conv.weight'])
    trainer = {'state_dict': {**{f'autoencoder.{k}': v for k, v in sd.items()},
                              'discriminator.conv.weight': torch.zeros(1)}, 'meta': {}}
    assert extract_state_dict(trainer).keys() == sd.keys()
    with pytest.raises(CheckpointError, match='no tensors'):
        extract_state_dict({'args': 1})


def test_refused_globals_are_never_run(tmp_path, tiny_vq_arch):
    sd = VQAutoencoder(**tiny_vq_arch).state_dict()
    marker = tmp_path / 'executed'
    torch.save({'model': sd, 'args': argparse.Namespace(lr=1.0), 'x': _Payload(str(marker))},
               tmp_path / 'ckpt.pt')
    with pytest.raises(CheckpointError, match='convert_llamagen.py'):
        load_native(tmp_path / 'ckpt.pt')  # the tokenizer path refuses such files
    obj, replaced = load_tensors_only(tmp_path / 'ckpt.pt')
    assert not marker.exists()
    assert 'argparse.Namespace' in replaced and any(r.endswith('.open') for r in replaced)
    assert torch.equal(obj['model']['quant_conv.weight'], sd['quant_conv.weight'])
    assert not os.path.exists(marker)


def test_convert_checkpoint_checks_the_architecture(tmp_path, tiny_vq_arch):
    sd = VQAutoencoder(**tiny_vq_arch).state_dict()
    torch.save({'state_dict': native_to_taming(sd)}, tmp_path / 'last.ckpt')
    with pytest.raises(ValueError, match=r'quantize\.embedding\.weight: file \(64, 4\) vs model'):
        convert_checkpoint(tmp_path / 'last.ckpt', tmp_path / 'out.pth', None,
                           **dict(tiny_vq_arch, codebook_size=32))
    assert not (tmp_path / 'out.pth').exists()
    with pytest.raises(CheckpointError, match='not found'):
        convert_checkpoint(tmp_path / 'missing.ckpt', tmp_path / 'out.pth', None, **tiny_vq_arch)

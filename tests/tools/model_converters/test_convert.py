"""tools/model_converters/convert_taming.py and tools/model_converters/convert_llamagen.py: published file -> loadable weights."""
import argparse

import pytest
import torch

from bigfix_mm.models.tokenizers import VQGANTokenizer
from bigfix_mm.models.editors.vqgan import VQAutoencoder
from bigfix_mm.models.tokenizers.convert import native_to_taming
from tests.conftest import assert_codes_like, load_tool

convert_llamagen = load_tool('model_converters/convert_llamagen')
convert_taming = load_tool('model_converters/convert_taming')


def _options(arch_kwargs):
    """``--arch-options`` arguments for the tiny architecture."""
    return [f"{k}={','.join(map(str, v)) if isinstance(v, tuple) else v}"
            for k, v in arch_kwargs.items()]


class LightningCallbackState:
    """A training-time object pickled into the checkpoint (not a tensor)."""

    def __init__(self):
        self.best = 0.5


@pytest.fixture
def tiny_taming_arch(tiny_vq_arch):
    return dict(tiny_vq_arch, l2_norm=False, usage_history=0)


def test_taming_checkpoint_round_trip(tmp_path, tiny_taming_arch, capsys):
    torch.manual_seed(0)
    src = VQAutoencoder(**tiny_taming_arch).eval()
    state = native_to_taming(src.state_dict())
    state['loss.discriminator.main.0.weight'] = torch.randn(8, 3, 4, 4)
    state['loss.perceptual_loss.lin0.model.1.weight'] = torch.randn(1, 64, 1, 1)
    torch.save({'state_dict': state, 'epoch': 3, 'hyper_parameters': argparse.Namespace(lr=4.5e-6),
                'callbacks': {'cb': LightningCallbackState()}}, tmp_path / 'last.ckpt')
    out = tmp_path / 'taming.safetensors'
    assert convert_taming.main([str(tmp_path / 'last.ckpt'), str(out), '--arch-options',
                                *_options(tiny_taming_arch)]) == 0
    printed = capsys.readouterr().out
    assert 'renamed from the taming layout' in printed and 'dropped 2 training-only' in printed
    assert 'LightningCallbackState' in printed  # left inert, never constructed
    tok = VQGANTokenizer(arch='taming-f16-1024', checkpoint=str(out), **tiny_taming_arch)
    back = tok.autoencoder.state_dict()
    assert all(torch.equal(back[k], v) for k, v in src.state_dict().items())
    assert_codes_like(tok, src)


def test_llamagen_checkpoint_with_training_state(tmp_path, tiny_vq_arch):
    torch.manual_seed(0)
    src = VQAutoencoder(**tiny_vq_arch, usage_history=512)
    torch.save({'model': src.state_dict(), 'optimizer': {'state': {}, 'param_groups': []},
                'steps': 10, 'args': argparse.Namespace(vq_model='VQ-16')},
               tmp_path / 'vq_ds16_c2i.pt')
    out = tmp_path / 'llamagen.pth'
    opts = _options(dict(tiny_vq_arch, usage_history=512))
    assert convert_llamagen.main([str(tmp_path / 'vq_ds16_c2i.pt'), str(out), '--arch-options',
                                  *opts]) == 0
    tok = VQGANTokenizer(arch='llamagen-vq16', checkpoint=str(out), **tiny_vq_arch,
                         usage_history=512)
    assert torch.equal(tok.autoencoder.quantize.embedding.weight, src.quantize.embedding.weight)
    with pytest.raises(ValueError, match='does not match the tokenizer architecture'):
        convert_llamagen.main([str(tmp_path / 'vq_ds16_c2i.pt'), str(tmp_path / 'x.pth'),
                               '--arch-options', *opts, 'codebook_size=128'])

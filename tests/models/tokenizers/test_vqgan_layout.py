"""The VQGAN architectures against the published parameter layouts of LlamaGen and taming.

The expected layouts are written out here from the published module trees
(LlamaGen ``tokenizer/tokenizer_image/vq_model.py``; taming-transformers
``taming/modules/diffusionmodules/model.py`` and ``taming/models/vqgan.py``),
independently of the implementation.
"""
import argparse

import pytest
import torch

from bigfix_mm.engine.checkpoint import CheckpointError
from bigfix_mm.models.tokenizers import VQGANTokenizer
from bigfix_mm.models.editors.vqgan import VQAutoencoder, resolve_arch
from bigfix_mm.models.tokenizers.convert import taming_to_native

from tests.conftest import assert_codes_like

F16 = dict(ch=128, ch_mult=(1, 1, 2, 2, 4), num_res_blocks=2, z_channels=256)


# ------------------------------------------------------------ published layouts
def _resnet(p, cin, cout):
    out = {f'{p}.norm1.weight': (cin, ), f'{p}.norm1.bias': (cin, ),
           f'{p}.conv1.weight': (cout, cin, 3, 3), f'{p}.conv1.bias': (cout, ),
           f'{p}.norm2.weight': (cout, ), f'{p}.norm2.bias': (cout, ),
           f'{p}.conv2.weight': (cout, cout, 3, 3), f'{p}.conv2.bias': (cout, )}
    if cin != cout:
        out.update({f'{p}.nin_shortcut.weight': (cout, cin, 1, 1), f'{p}.nin_shortcut.bias': (cout, )})
    return out


def _attn(p, c):
    out = {f'{p}.norm.weight': (c, ), f'{p}.norm.bias': (c, )}
    for name in ('q', 'k', 'v', 'proj_out'):
        out.update({f'{p}.{name}.weight': (c, c, 1, 1), f'{p}.{name}.bias': (c, )})
    return out


def published_layout(family, ch, ch_mult, num_res_blocks, z_channels, codebook_size, code_dim):
    """name -> shape of LlamaGen's VQModel or taming's VQModel (without ``loss.*``)."""
    llama = family == 'llamagen'
    levels = len(ch_mult)
    lay = {'encoder.conv_in.weight': (ch, 3, 3, 3), 'encoder.conv_in.bias': (ch, )}
    block_in = ch
    for i, mult in enumerate(ch_mult):
        stage = f'encoder.conv_blocks.{i}' if llama else f'encoder.down.{i}'
        for j in range(num_res_blocks):
            lay.update(_resnet(f"{stage}.{'res' if llama else 'block'}.{j}", block_in, ch * mult))
            block_in = ch * mult
            if i == levels - 1:  # LlamaGen: last level; taming: attn_resolutions=[16] at 256 px
                lay.update(_attn(f'{stage}.attn.{j}', block_in))
        if i != levels - 1:
            lay.update({f'{stage}.downsample.conv.weight': (block_in, block_in, 3, 3),
                        f'{stage}.downsample.conv.bias': (block_in, )})
    mids = ('mid.0', 'mid.1', 'mid.2') if llama else ('mid.block_1', 'mid.attn_1', 'mid.block_2')
    for part in ('encoder', 'decoder'):
        c = block_in
        lay.update(_resnet(f'{part}.{mids[0]}', c, c))
        lay.update(_attn(f'{part}.{mids[1]}', c))
        lay.update(_resnet(f'{part}.{mids[2]}', c, c))
    lay.update({'encoder.norm_out.weight': (block_in, ), 'encoder.norm_out.bias': (block_in, ),
                'encoder.conv_out.weight': (z_channels, block_in, 3, 3),
                'encoder.conv_out.bias': (z_channels, )})
    lay.update({'decoder.conv_in.weight': (block_in, z_channels, 3, 3),
                'decoder.conv_in.bias': (block_in, )})
    for idx, i in enumerate(reversed(range(levels))):
        stage = f'decoder.conv_blocks.{idx}' if llama else f'decoder.up.{i}'
        for j in range(num_res_blocks + 1):
            lay.update(_resnet(f"{stage}.{'res' if llama else 'block'}.{j}", block_in, ch * ch_mult[i]))
            block_in = ch * ch_mult[i]
            if i == levels - 1:
                lay.update(_attn(f'{stage}.attn.{j}', block_in))
        if i != 0:
            lay.update({f'{stage}.upsample.conv.weight': (block_in, block_in, 3, 3),
                        f'{stage}.upsample.conv.bias': (block_in, )})
    lay.update({'decoder.norm_out.weight': (block_in, ), 'decoder.norm_out.bias': (block_in, ),
                'decoder.conv_out.weight': (3, block_in, 3, 3), 'decoder.conv_out.bias': (3, ),
                'quantize.embedding.weight': (codebook_size, code_dim),
                'quant_conv.weight': (code_dim, z_channels, 1, 1), 'quant_conv.bias': (code_dim, ),
                'post_quant_conv.weight': (z_channels, code_dim, 1, 1),
                'post_quant_conv.bias': (z_channels, )})
    if llama:
        lay['quantize.codebook_used'] = (65536, )
    return lay


# Spot checks copied from the published checkpoints' layouts.
LLAMAGEN_VQ16_KEYS = {
    'encoder.conv_in.weight': (128, 3, 3, 3),
    'encoder.conv_blocks.0.res.0.conv1.weight': (128, 128, 3, 3),
    'encoder.conv_blocks.2.res.0.nin_shortcut.weight': (256, 128, 1, 1),
    'encoder.conv_blocks.3.downsample.conv.weight': (256, 256, 3, 3),
    'encoder.conv_blocks.4.res.0.nin_shortcut.weight': (512, 256, 1, 1),
    'encoder.conv_blocks.4.attn.1.q.weight': (512, 512, 1, 1),
    'encoder.mid.1.proj_out.weight': (512, 512, 1, 1),
    'encoder.conv_out.weight': (256, 512, 3, 3),
    'decoder.conv_in.weight': (512, 256, 3, 3),
    'decoder.conv_blocks.0.attn.2.k.weight': (512, 512, 1, 1),
    'decoder.conv_blocks.0.upsample.conv.weight': (512, 512, 3, 3),
    'decoder.conv_blocks.1.res.0.nin_shortcut.weight': (256, 512, 1, 1),
    'decoder.conv_blocks.4.res.2.conv2.weight': (128, 128, 3, 3),
    'decoder.conv_out.weight': (3, 128, 3, 3),
    'quantize.embedding.weight': (16384, 8),
    'quantize.codebook_used': (65536, ),
    'quant_conv.weight': (8, 256, 1, 1),
    'post_quant_conv.weight': (256, 8, 1, 1),
}
TAMING_F16_1024_KEYS = {
    'encoder.down.0.block.1.conv2.weight': (128, 128, 3, 3),
    'encoder.down.4.attn.1.q.weight': (512, 512, 1, 1),
    'encoder.down.2.block.0.nin_shortcut.weight': (256, 128, 1, 1),
    'encoder.mid.attn_1.proj_out.weight': (512, 512, 1, 1),
    'decoder.mid.block_2.conv1.weight': (512, 512, 3, 3),
    'decoder.up.4.attn.2.k.weight': (512, 512, 1, 1),
    'decoder.up.4.upsample.conv.weight': (512, 512, 3, 3),
    'decoder.up.3.block.0.nin_shortcut.weight': (256, 512, 1, 1),
    'decoder.up.0.block.2.conv2.weight': (128, 128, 3, 3),
    'quantize.embedding.weight': (1024, 256),
    'quant_conv.weight': (256, 256, 1, 1),
    'post_quant_conv.weight': (256, 256, 1, 1),
}


def _meta_autoencoder(arch, **overrides):
    """The full-size architecture without allocating or initialising it (meta tensors)."""
    with torch.device('meta'):
        return VQAutoencoder(**resolve_arch(arch, **overrides))


def _shapes(module):
    return {k: tuple(v.shape) for k, v in module.state_dict().items()}


def test_llamagen_vq16_reproduces_the_published_layout():
    model = _meta_autoencoder('llamagen-vq16')
    shapes = _shapes(model)
    for key, shape in LLAMAGEN_VQ16_KEYS.items():
        assert shapes.get(key) == shape, key
    expected = published_layout('llamagen', **F16, codebook_size=16384, code_dim=8)
    assert len(expected) == 344  # counted by hand from the published module tree
    assert shapes == expected
    assert model.codebook_size == 16384 and model.downsample == 16
    n_params = sum(p.numel() for p in model.parameters())
    assert 71e6 < n_params < 73e6  # LlamaGen reports 72M parameters for VQ-16


def test_taming_f16_layout_after_renaming():
    model = _meta_autoencoder('taming-f16-1024')
    layout = published_layout('taming', **F16, codebook_size=1024, code_dim=256)
    for key, shape in TAMING_F16_1024_KEYS.items():
        assert layout[key] == shape, key
    native = taming_to_native({k: torch.empty(s, device='meta') for k, s in layout.items()})
    assert {k: tuple(v.shape) for k, v in native.items()} == _shapes(model)
    assert model.codebook_size == 1024 and model.downsample == 16


# the same module trees at a quarter of the width: every key and level, 1/16 of the values
NARROW = dict(ch=32, z_channels=32)


def _random_state(layout, seed=0):
    gen = torch.Generator().manual_seed(seed)
    return {k: torch.randn(s, generator=gen) for k, s in layout.items()}


def test_published_state_dicts_load_strictly(tmp_path):
    llama_sd = _random_state(published_layout('llamagen', **dict(F16, **NARROW), codebook_size=64,
                                              code_dim=8))
    torch.save({'model': llama_sd}, tmp_path / 'vq_ds16_c2i.pt')  # LlamaGen's format, no renaming
    loaded = VQGANTokenizer(arch='llamagen-vq16', checkpoint=str(tmp_path / 'vq_ds16_c2i.pt'),
                            **NARROW, codebook_size=64)
    for key in ('quantize.embedding.weight', 'decoder.conv_blocks.0.attn.2.k.weight'):
        assert torch.equal(loaded.autoencoder.state_dict()[key], llama_sd[key])
    ids = loaded.encode(torch.rand(2, 3, 32, 32))
    assert ids.shape == (2, 2, 2) and ids.dtype == torch.int64 and int(ids.max()) < 64
    rec = loaded.decode(ids)
    assert rec.shape == (2, 3, 32, 32) and rec.dtype == torch.float32

    taming_sd = _random_state(published_layout('taming', **dict(F16, **NARROW), codebook_size=64,
                                               code_dim=32), seed=1)
    taming_sd['loss.discriminator.main.0.weight'] = torch.randn(64, 3, 4, 4)  # training loss
    torch.save({'state_dict': taming_sd, 'global_step': 5}, tmp_path / 'last.ckpt')
    tok = VQGANTokenizer(arch='taming-f16-1024', checkpoint=str(tmp_path / 'last.ckpt'), **NARROW,
                         codebook_size=64, code_dim=32)
    state = tok.autoencoder.state_dict()
    assert torch.equal(state['decoder.conv_blocks.0.attn.2.k.weight'],
                       taming_sd['decoder.up.4.attn.2.k.weight'])
    assert torch.equal(state['decoder.conv_blocks.4.res.2.conv2.weight'],
                       taming_sd['decoder.up.0.block.2.conv2.weight'])
    assert torch.equal(state['encoder.mid.1.q.weight'], taming_sd['encoder.mid.attn_1.q.weight'])
    x = torch.rand(1, 3, 32, 32)
    assert tok.encode(x).shape == (1, 2, 2) and tok.decode(tok.encode(x)).shape == x.shape


@pytest.mark.slow
def test_full_size_published_checkpoints_load(tmp_path):
    """72M-parameter LlamaGen VQ-16 and taming f16 files at their published sizes (~10 s)."""
    llama_sd = _random_state(published_layout('llamagen', **F16, codebook_size=16384, code_dim=8))
    torch.save({'model': llama_sd}, tmp_path / 'vq_ds16_c2i.pt')
    tok = VQGANTokenizer(arch='llamagen-vq16', checkpoint=str(tmp_path / 'vq_ds16_c2i.pt'))
    assert torch.equal(tok.autoencoder.quantize.embedding.weight, llama_sd['quantize.embedding.weight'])
    ids = tok.encode(torch.rand(1, 3, 64, 64))
    assert ids.shape == (1, 4, 4) and int(ids.max()) < 16384
    del tok, llama_sd
    taming_sd = _random_state(published_layout('taming', **F16, codebook_size=1024, code_dim=256))
    torch.save({'state_dict': taming_sd}, tmp_path / 'last.ckpt')
    tok = VQGANTokenizer(arch='taming-f16-1024', checkpoint=str(tmp_path / 'last.ckpt'))
    assert torch.equal(tok.autoencoder.encoder.mid[1].q.weight, taming_sd['encoder.mid.attn_1.q.weight'])


def test_loaded_weights_decode_like_the_published_model(tmp_path, tiny_vq_arch):
    # encode -> decode of a checkpoint written in LlamaGen's format equals the source model's
    src = VQAutoencoder(**tiny_vq_arch, usage_history=65536).eval()
    torch.save({'ema': src.state_dict(), 'model': {}}, tmp_path / 'ema.pt')
    tok = VQGANTokenizer(checkpoint=str(tmp_path / 'ema.pt'), **tiny_vq_arch, usage_history=65536)
    assert_codes_like(tok, src)


def test_missing_and_mismatched_checkpoints_are_explained(tmp_path, tiny_vq_arch):
    with pytest.raises(FileNotFoundError, match='nope.pt'):
        VQGANTokenizer(checkpoint=str(tmp_path / 'nope.pt'), **tiny_vq_arch)
    other = VQAutoencoder(**dict(tiny_vq_arch, codebook_size=32))
    torch.save(other.state_dict(), tmp_path / 'k32.pth')
    with pytest.raises(ValueError, match=r'k32\.pth[\s\S]*quantize\.embedding\.weight: file '
                                         r'\(32, 4\) vs model \(64, 4\)'):
        VQGANTokenizer(checkpoint=str(tmp_path / 'k32.pth'), **tiny_vq_arch)
    partial = {k: v for k, v in other.state_dict().items() if not k.startswith('decoder.')}
    torch.save(partial, tmp_path / 'partial.pth')
    with pytest.raises(ValueError, match='missing keys'):
        VQGANTokenizer(checkpoint=str(tmp_path / 'partial.pth'), **dict(tiny_vq_arch, codebook_size=32))
    (tmp_path / 'broken.pth').write_bytes(b'not a checkpoint')
    with pytest.raises(CheckpointError, match='broken.pth'):
        VQGANTokenizer(checkpoint=str(tmp_path / 'broken.pth'), **tiny_vq_arch)
    with pytest.raises(KeyError, match='unknown VQ arch'):
        resolve_arch('llamagen-vq32')


def test_files_with_pickled_objects_are_refused_without_running_them(tmp_path, tiny_vq_arch):
    sd = VQAutoencoder(**tiny_vq_arch).state_dict()
    torch.save({'model': sd, 'args': argparse.Namespace(lr=1e-4)}, tmp_path / 'train_state.pt')
    with pytest.raises(CheckpointError, match='convert_llamagen.py'):
        VQGANTokenizer(checkpoint=str(tmp_path / 'train_state.pt'), **tiny_vq_arch)


def test_safetensors_checkpoints_load(tmp_path, tiny_vq_arch):
    from safetensors.torch import save_file
    src = VQAutoencoder(**tiny_vq_arch)
    save_file(src.state_dict(), str(tmp_path / 'vq.safetensors'))
    tok = VQGANTokenizer(checkpoint=str(tmp_path / 'vq.safetensors'), **tiny_vq_arch)
    assert torch.equal(tok.autoencoder.quantize.embedding.weight, src.quantize.embedding.weight)

"""encode / decode contracts of the VQ tokenizers, built from the registry."""
import pytest
import torch

from bigfix_mm.registry import MODELS

TINY_DIFFUSERS_VQ = dict(type='VQModel', in_channels=3, out_channels=3,
                         down_block_types=('DownEncoderBlock2D', 'DownEncoderBlock2D'),
                         up_block_types=('UpDecoderBlock2D', 'UpDecoderBlock2D'),
                         block_out_channels=(16, 32), layers_per_block=1, latent_channels=4,
                         num_vq_embeddings=32, vq_embed_dim=4, norm_num_groups=8,
                         sample_size=16)


def _check_contract(tok, size, codebook_size, grid):
    assert tok.codebook_size == codebook_size
    assert tok.grid_size(size) == grid
    x = torch.rand(3, 3, size, size)
    ids = tok.encode(x)
    assert ids.shape == (3, *grid) and ids.dtype == torch.int64
    assert 0 <= int(ids.min()) and int(ids.max()) < codebook_size
    rec = tok.decode(ids)
    assert rec.shape == x.shape and rec.dtype == torch.float32
    assert 0.0 <= float(rec.min()) and float(rec.max()) <= 1.0
    assert not any(p.requires_grad for p in tok.parameters())
    tok.train()
    assert not tok.training  # tokenizers stay frozen in eval mode
    with pytest.raises(ValueError, match='divisible'):
        tok.encode(torch.rand(1, 3, size + 1, size))
    with pytest.raises(ValueError, match='codebook_size'):
        tok.decode(torch.full((1, *grid), codebook_size))
    return ids, rec


def test_vqgan_tokenizer_contract(tiny_vq_arch):
    tok = MODELS.build(dict(type='VQGANTokenizer', **tiny_vq_arch))
    ids, rec = _check_contract(tok, 16, 64, (8, 8))
    assert torch.equal(tok.decode(ids), rec)  # deterministic


def test_vqgan_named_arch_with_overrides():
    tok = MODELS.build(dict(type='VQGANTokenizer', arch='cifar-f4', ch=32, codebook_size=128))
    _check_contract(tok, 32, 128, (8, 8))
    assert tok.downsample == 4


@pytest.fixture(scope='module')
def diffusers_vq():
    return MODELS.build(dict(type='DiffusersVQTokenizer', vqmodel=TINY_DIFFUSERS_VQ))


def test_diffusers_vq_adapter_contract(diffusers_vq):
    assert type(diffusers_vq.vq).__module__.startswith('diffusers')
    assert diffusers_vq.downsample == 2
    _check_contract(diffusers_vq, 16, 32, (8, 8))


def test_diffusers_decode_of_ids_equals_the_vqmodel_reconstruction(diffusers_vq):
    x = torch.rand(2, 3, 16, 16)
    with torch.no_grad():
        own = diffusers_vq.vq(x * 2 - 1).sample  # diffusers: encode, quantise, decode
    rec = diffusers_vq.decode(diffusers_vq.encode(x))
    assert torch.allclose(rec, ((own + 1) / 2).clamp(0, 1), atol=1e-5)


def test_diffusers_from_pretrained_local_folder(diffusers_vq, tmp_path):
    diffusers_vq.vq.save_pretrained(str(tmp_path / 'vq'), safe_serialization=True)
    assert (tmp_path / 'vq' / 'diffusion_pytorch_model.safetensors').is_file()
    tok = MODELS.build(dict(type='DiffusersVQTokenizer',
                            vqmodel=dict(type='VQModel', from_pretrained=str(tmp_path / 'vq'))))
    x = torch.rand(1, 3, 16, 16)
    assert torch.equal(tok.encode(x), diffusers_vq.encode(x))


def test_diffusers_adapter_rejects_non_vq_models():
    with pytest.raises(TypeError, match='VQModel'):
        MODELS.build(dict(type='DiffusersVQTokenizer', vqmodel=dict(
            type='AutoencoderKL', block_out_channels=(8, ), norm_num_groups=8)))

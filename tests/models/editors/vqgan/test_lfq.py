import pytest
import torch

from bigfix_mm.models.editors.bigfix.heads import bits_to_ids
from bigfix_mm.models.tokenizers import VQGANTokenizer
from bigfix_mm.models.editors.vqgan import LookupFreeQuantizer, VQAutoencoder
from bigfix_mm.registry import MODELS

TINY_LFQ = dict(ch=16, ch_mult=(1, 2), num_res_blocks=1, z_channels=16, norm_groups=8)


@pytest.mark.parametrize('bits', [10, 16, 32])
def test_quantizer_round_trips_its_codes(bits):
    q = LookupFreeQuantizer(bits)
    ids = torch.randint(0, 2**bits, (3, 4, 5), generator=torch.Generator().manual_seed(0))
    ids[0, 0, :2] = torch.tensor([0, 2**bits - 1])  # both ends of the range
    latents = q.lookup(ids)  # (3, bits, 4, 5) in {-1, +1}
    assert latents.shape == (3, bits, 4, 5) and set(latents.unique().tolist()) <= {-1.0, 1.0}
    z_q, again, _ = q.eval()(latents * torch.rand_like(latents).add(0.1))  # any positive scale
    assert torch.equal(again, ids) and torch.equal(z_q, latents)
    # bit i of the id is the sign of channel i, as the bit head reads it
    assert torch.equal(bits_to_ids((latents > 0).permute(0, 2, 3, 1)), ids)


def test_straight_through_gradient_and_losses():
    q = LookupFreeQuantizer(8).train()
    z = torch.randn(2, 8, 3, 3, requires_grad=True)
    z_q, ids, losses = q(z)
    assert set(losses) == {'commit', 'entropy'} and ids.max() < 256
    z_q.sum().backward()
    assert torch.allclose(z.grad, torch.ones_like(z))
    assert 0 < q.usage() <= 18 / 256


def test_entropy_terms_equal_the_soft_assignment_over_all_codes():
    q = LookupFreeQuantizer(6, temperature=0.5)
    flat = torch.randn(50, 6)
    codes = ((torch.arange(64)[:, None] >> torch.arange(6)) & 1).float() * 2 - 1
    soft = torch.softmax(-((flat[:, None] - codes[None])**2).sum(-1) / 0.5, -1)  # (50, 64)
    per_sample = -(soft * soft.log()).sum(-1).mean()
    avg = soft.mean(0)
    terms = q.entropy_terms(flat)
    assert torch.allclose(terms['per_sample'], per_sample, atol=1e-4)
    assert torch.allclose(terms['codebook'], -(avg * avg.log()).sum(), atol=1e-4)
    # b = 16 in two groups of 8: memory (N, 256), an upper bound of the joint entropy
    assert LookupFreeQuantizer(16).groups == [(0, 8), (8, 16)]


def test_entropy_loss_spreads_codes_and_commitment_pulls_to_signs():
    torch.manual_seed(0)
    z = (torch.randn(256, 6) * 0.01 + 0.05).requires_grad_()  # every latent on one code
    q = LookupFreeQuantizer(6, entropy_weight=1.0, beta=0.0).train()
    opt = torch.optim.SGD([z], lr=0.5)
    start = torch.unique(q.ids_from_signs(z.detach())).numel()
    for _ in range(100):
        loss = q(z.view(256, 6, 1, 1))[2]['entropy']
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert start == 1 and torch.unique(q.ids_from_signs(z.detach())).numel() > 32


def test_lfq_tokenizer_codes_round_trip_through_the_autoencoder():
    torch.manual_seed(0)
    quantizer = dict(type='LookupFreeQuantizer', bits=12)
    ae = VQAutoencoder(**TINY_LFQ, quantizer=quantizer).eval()
    assert ae.codebook_size == 2**12 and not any('codebook' in n for n, _ in ae.named_parameters())
    tok = VQGANTokenizer(**TINY_LFQ, quantizer=quantizer)
    tok.autoencoder.load_state_dict(ae.state_dict())
    images = torch.rand(2, 3, 8, 8)
    ids = tok.encode(images)
    assert ids.shape == (2, 4, 4) and ids.max() < 2**12
    z_q, _, _ = ae.encode(images * 2 - 1)
    assert torch.equal(ae.quantize.lookup(ids), z_q)  # ids carry the whole quantised latent
    assert torch.allclose(tok.decode(ids), ((ae.decode(z_q) + 1) / 2).clamp(0, 1))


def test_trainer_uses_the_quantizer_losses():
    trainer = MODELS.build(dict(type='VQGANTrainer', autoencoder=dict(
        **TINY_LFQ, quantizer=dict(type='LookupFreeQuantizer', bits=10))))
    img = torch.randint(0, 256, (2, 3, 8, 8), dtype=torch.uint8)
    losses = trainer(dict(img=img), mode='loss')
    assert set(losses) == {'loss_rec', 'loss_commit', 'loss_entropy'}

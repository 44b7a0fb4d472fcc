import pytest
import torch
import torch.nn.functional as F

from bigfix_mm.models.editors.vqgan import VectorQuantizer


def test_nearest_code_and_straight_through_gradient():
    torch.manual_seed(0)
    vq = VectorQuantizer(codebook_size=8, code_dim=3, beta=0.25)
    with torch.no_grad():
        vq.embedding.weight.copy_(torch.randn(8, 3))
    z = torch.randn(2, 3, 4, 5, requires_grad=True)
    z_q, ids, losses = vq(z)
    assert z_q.shape == z.shape and ids.shape == (2, 4, 5) and ids.dtype == torch.int64
    flat = z.detach().permute(0, 2, 3, 1).reshape(-1, 3)
    brute = torch.cdist(flat, vq.embedding.weight.detach()).argmin(1)
    assert torch.equal(ids.flatten(), brute)
    # z + (q - z).detach() equals q up to float rounding
    assert torch.allclose(z_q.detach().permute(0, 2, 3, 1).reshape(-1, 3),
                          vq.embedding.weight[brute].detach(), atol=1e-6)
    assert set(losses) == {'codebook', 'commit'}
    assert torch.allclose(losses['commit'], 0.25 * losses['codebook'])
    z_q.sum().backward()
    assert torch.allclose(z.grad, torch.ones_like(z))  # straight-through


def test_l2_normalised_codes_and_eval_mode():
    vq = VectorQuantizer(codebook_size=16, code_dim=4, l2_norm=True).eval()
    z = torch.randn(1, 4, 3, 3) * 10
    z_q, ids, losses = vq(z)
    assert losses == {}
    assert torch.allclose(z_q.norm(dim=1), torch.ones(1, 3, 3), atol=1e-5)
    cos = F.normalize(z.permute(0, 2, 3, 1).reshape(-1, 4), dim=-1) @ F.normalize(
        vq.embedding.weight, dim=-1).t()
    assert torch.equal(ids.flatten(), cos.argmax(1))
    assert torch.allclose(vq.lookup(ids), z_q)


def test_dead_codes_are_restarted_from_batch_latents():
    torch.manual_seed(0)
    vq = VectorQuantizer(codebook_size=32, code_dim=2, restart_interval=5, dead_threshold=0.5,
                         usage_decay=0.5, usage_history=256)
    with torch.no_grad():  # every code far away from the data except code 0
        vq.embedding.weight.copy_(torch.full((32, 2), 100.0))
        vq.embedding.weight[0] = 0.0
    z = torch.randn(4, 2, 4, 4)
    for _ in range(4):
        vq(z)
    assert vq.usage() == 1 / 32  # collapsed on code 0
    vq(z)  # step 5: restart
    assert (vq.embedding.weight.abs() < 10).sum(0).min() > 1  # dead codes moved into the data
    _, ids, _ = vq(z)
    assert ids.unique().numel() > 1
    assert vq.usage() > 1 / 32


def test_ema_codebook_moves_codes_to_cluster_means():
    vq = VectorQuantizer(codebook_size=2, code_dim=2, ema_decay=0.5)
    with torch.no_grad():
        vq.embedding.weight.copy_(torch.tensor([[1.0, 0.0], [-1.0, 0.0]]))
        vq.ema_sum.copy_(vq.embedding.weight)
    z = torch.tensor([[3.0, 1.0], [-3.0, -1.0]]).t().reshape(1, 2, 1, 2)  # one latent per code
    for _ in range(20):
        _, _, losses = vq(z)
    assert float(losses['codebook']) == 0.0 and not vq.embedding.weight.requires_grad
    assert torch.allclose(vq.embedding.weight, torch.tensor([[3.0, 1.0], [-3.0, -1.0]]), atol=1e-3)
    assert {'ema_count', 'ema_sum'} <= set(vq.state_dict())


def test_bad_arguments():
    with pytest.raises(ValueError, match='ema_decay'):
        VectorQuantizer(8, 2, ema_decay=1.5)
    with pytest.raises(ValueError, match=r'\(B, 2, h, w\)'):
        VectorQuantizer(8, 2)(torch.randn(1, 3, 2, 2))

import pytest
import torch
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.utils.flop_counter import FlopCounterMode

from bigfix_mm.models.editors.bigfix.heads import MaskedBitHead, SoftmaxHead
from bigfix_mm.models.editors.bigfix.transformer import BidirectionalTransformer


def random_head(bits=6, width=32, std=0.3, **kw):
    torch.manual_seed(0)
    head = MaskedBitHead(2**bits, width, bit_width=32, depth=2, heads=4, **kw)
    for p in head.parameters():  # non-degenerate bit probabilities
        torch.nn.init.normal_(p, std=std)
    return head


@pytest.mark.parametrize('guided', [False, True])
def test_log_likelihood_sums_to_one_over_all_ids_at_b6(guided):
    head = random_head(bits=6)
    hidden = torch.randn(2, 3, 32)
    uncond = torch.randn(2, 3, 32) if guided else None
    dist = head.distribution(hidden, uncond, cfg_weight=1.5 if guided else 0.0,
                             temperature=0.7 if guided else 1.0)
    logp = torch.stack([dist.log_prob(torch.full((2, 3), i)) for i in range(64)], -1)  # (2, 3, 64)
    assert torch.allclose(logp.exp().sum(-1), torch.ones(2, 3), atol=1e-5)
    assert logp.exp().std() > 1e-3  # not the uniform distribution


def test_nll_is_minus_the_chain_log_likelihood():
    head = random_head(bits=4)
    hidden, ids = torch.randn(2, 5, 32), torch.randint(0, 16, (2, 5))
    assert torch.allclose(head.nll(hidden, ids), -head.distribution(hidden).log_prob(ids))


def test_sampling_with_steps_equal_bits_draws_the_chain_distribution():
    head = random_head(bits=3, std=0.5)
    hidden = torch.randn(1, 1, 32)
    draws = head.distribution(hidden.expand(1, 8000, 32)).sample(torch.Generator().manual_seed(0))
    freq = torch.bincount(draws.flatten(), minlength=8).float() / draws.numel()
    dist = head.distribution(hidden)
    prob = torch.stack([dist.log_prob(torch.full((1, 1), i)) for i in range(8)]).flatten().exp()
    assert (freq - prob).abs().max() < 0.025  # 5 standard errors


def test_fewer_steps_reveal_every_bit_and_greedy_is_deterministic():
    head = random_head(bits=10, steps=3)
    assert head.reveal_counts() == [3, 7, 10]
    hidden = torch.randn(4, 8, 32)
    ids = head.distribution(hidden).sample(torch.Generator().manual_seed(0))
    assert ids.shape == (4, 8) and ids.min() >= 0 and ids.max() < 1024
    assert torch.equal(head.greedy(hidden), head.greedy(hidden))


def test_masked_bit_training_lowers_the_loss_on_a_fixed_batch():
    torch.manual_seed(0)
    model = BidirectionalTransformer(2**8, grid=(4, 4), num_classes=2, size=None, width=32,
                                     depth=1, heads=2, head=dict(type='MaskedBitHead', depth=1,
                                                                 bit_width=32))
    gen = torch.Generator().manual_seed(1)
    ids = torch.randint(0, 256, (8, 16), generator=gen)
    inputs = ids.masked_fill(torch.rand(8, 16, generator=gen) < 0.3, 256)
    labels = torch.zeros(8, dtype=torch.long)

    def eval_loss():
        torch.manual_seed(123)  # the same random bit masks before and after training
        with torch.no_grad():
            out = model(inputs, labels)
            return model.head.loss(out, ids).mean().item(), model.head.nll(out, ids).mean().item()

    loss0, nll0 = eval_loss()
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(40):
        loss = model.head.loss(model(inputs, labels), ids).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    loss1, nll1 = eval_loss()
    assert loss1 < 0.5 * loss0 and nll1 < 0.5 * nll0, (loss0, loss1, nll0, nll1)


def test_bit_head_input_embedding_has_no_codebook_table():
    model = BidirectionalTransformer(2**16, grid=(2, 2), num_classes=2, size=None, width=32,
                                     depth=1, heads=2, head=dict(type='MaskedBitHead'))
    assert max(p.numel() for p in model.parameters()) < 2**16
    assert not hasattr(model, 'head_bias')
    out = model(torch.tensor([[0, 2**16 - 1, 2**16, 5]]), torch.zeros(1, dtype=torch.long))
    assert out.shape == (1, 4, 32)  # hidden states; the head samples from them


def test_bits_must_match_the_codebook():
    with pytest.raises(ValueError, match='codebook_size'):
        MaskedBitHead(1024, 32, bits=12)
    with pytest.raises(ValueError, match='power of two'):
        MaskedBitHead(1000, 32)
    with pytest.raises(ValueError, match='steps'):
        MaskedBitHead(1024, 32, steps=11)
    with pytest.raises(ValueError, match='top_k'):
        MaskedBitHead(16, 32).distribution(torch.randn(1, 2, 32), top_k=4)


@pytest.mark.parametrize('head_cfg', [dict(type='SoftmaxHead'),
                                      dict(type='MaskedBitHead', depth=2, bit_width=32, steps=4)])
def test_cost_matches_counted_flops_and_parameters(head_cfg):
    width, k = 64, 2**10
    model = BidirectionalTransformer(k, grid=(2, 2), num_classes=2, size=None, width=width,
                                     depth=1, heads=2, head=head_cfg)
    trunk = BidirectionalTransformer(k, grid=(2, 2), num_classes=2, size=None, width=width,
                                     depth=1, heads=2)
    head, cost = model.head, model.head.cost()
    # same trunk: the parameter difference is exactly the heads' cost difference
    assert model.num_parameters() - cost['params'] == (trunk.num_parameters() -
                                                       trunk.head.cost()['params'])
    hidden, ids = torch.randn(1, 1, width), torch.zeros(1, 1, dtype=torch.long)

    def counted(fn):
        with sdpa_kernel(SDPBackend.MATH), FlopCounterMode(display=False) as fc:
            fn()
        return fc.get_total_flops()

    emb = counted(lambda: model.tok_emb(ids))
    out = lambda: head.output(hidden, model)  # noqa: E731
    assert emb + counted(lambda: head.loss(out(), ids)) == cost['train_flops']
    assert emb + counted(lambda: head.distribution(out()).sample()) == cost['sample_flops']


def test_bit_head_cost_grows_with_bits_not_codebook():
    small, huge = MaskedBitHead(2**10, 384).cost(), MaskedBitHead(2**32, 384).cost()
    soft = SoftmaxHead(2**32, 384).cost()
    assert huge['params'] < 2 * small['params'] and soft['params'] > 1e12

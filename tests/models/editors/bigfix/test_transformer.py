import pytest
import torch

from bigfix_mm.models.editors.bigfix.transformer import TRANSFORMER_SIZES, BidirectionalTransformer

PUBLISHED_MILLIONS = dict(tiny=23, small=69, base=142, large=480)


@pytest.mark.parametrize('size', sorted(PUBLISHED_MILLIONS))
def test_parameter_count_matches_published(size):
    with torch.device('meta'):
        model = BidirectionalTransformer(16384, grid=(16, 16), num_classes=1000, size=size)
    millions = model.num_parameters() / 1e6
    assert abs(millions / PUBLISHED_MILLIONS[size] - 1) < 0.02, millions


def test_named_sizes_table():
    assert TRANSFORMER_SIZES['large'] == (1024, 24, 16)
    with torch.device('meta'):
        model = BidirectionalTransformer(16384, size='xlarge')
    assert model.width == 1152 and len(model.blocks) == 28


def test_forward_shapes_image_and_volume():
    model = BidirectionalTransformer(16, grid=(4, 4), num_classes=3, size=None, width=32,
                                     depth=2, heads=2)
    ids = torch.randint(0, 17, (5, 4, 4))
    logits = model(ids, torch.randint(0, 4, (5, )))
    assert logits.shape == (5, 16, 17)
    video = BidirectionalTransformer(16, grid=(3, 4, 4), num_classes=3, size=None, width=32,
                                     depth=1, heads=2)
    assert video(torch.randint(0, 17, (2, 3, 4, 4)), torch.zeros(2, dtype=torch.long)).shape == (
        2, 48, 17)
    assert video.pos_emb.shape == (16, 32)  # spatial table shared over time


def test_head_is_tied_and_adaln_zero_init():
    model = BidirectionalTransformer(16, grid=(4, 4), num_classes=3, size=None, width=32,
                                     depth=2, heads=2)
    vocab_tables = [n for n, p in model.named_parameters() if p.shape == (17, 32)]
    assert vocab_tables == ['tok_emb.weight']  # the output head reuses the embedding
    for block in model.blocks:
        assert torch.count_nonzero(block.ada[1].weight) == 0


def test_label_drop_uses_null_class():
    torch.manual_seed(0)
    model = BidirectionalTransformer(16, grid=(4, 4), num_classes=3, size=None, width=32,
                                     depth=2, heads=2)
    for p in model.parameters():  # leave adaLN-zero so labels matter
        torch.nn.init.normal_(p, std=0.1)
    ids = torch.randint(0, 17, (2, 16))
    labels = torch.tensor([0, 1])
    dropped = model(ids, labels, drop_label=torch.tensor([True, True]))
    null = model(ids, torch.tensor([3, 3]))
    assert torch.allclose(dropped, null)
    assert not torch.allclose(model(ids, labels), null)


def test_wrong_number_of_tokens_is_a_clear_error():
    model = BidirectionalTransformer(16, grid=(4, 4), num_classes=3, size=None, width=32,
                                     depth=1, heads=2)
    with pytest.raises(ValueError, match='grid'):
        model(torch.zeros(1, 15, dtype=torch.long), torch.zeros(1, dtype=torch.long))


def test_unknown_size_names_the_choices():
    with pytest.raises(ValueError, match='size'):
        BidirectionalTransformer(16, size='huge')



def _random_block_model(dropout: float) -> BidirectionalTransformer:
    torch.manual_seed(0)
    model = BidirectionalTransformer(16, grid=(4, 4), num_classes=3, size=None, width=32, depth=1,
                                     heads=2, dropout=dropout)
    for p in model.parameters():  # adaLN-Zero would hide the blocks at initialisation
        torch.nn.init.normal_(p, std=0.3)
    return model


@pytest.mark.parametrize('site', ['attn_out', 'mlp_hidden'])
def test_dropout_sites_act_in_training_only(site, monkeypatch):
    import bigfix_mm.models.editors.bigfix.transformer as tr
    model = _random_block_model(0.5)
    block = model.blocks[0]
    if site == 'mlp_hidden':
        block.attn.dropout = 0.0
    else:  # attention-probability dropout off: only the output dropout can act
        block.mlp.dropout = 0.0
        sdpa = tr.F.scaled_dot_product_attention
        monkeypatch.setattr(tr.F, 'scaled_dot_product_attention',
                            lambda q, k, v, dropout_p=0.0: sdpa(q, k, v))
    ids, labels = torch.randint(0, 17, (2, 16)), torch.tensor([0, 1])
    model.train()
    assert not torch.allclose(model(ids, labels), model(ids, labels))
    model.eval()
    assert torch.equal(model(ids, labels), model(ids, labels))


def test_attention_probability_dropout_reaches_sdpa(monkeypatch):
    import bigfix_mm.models.editors.bigfix.transformer as tr
    seen, sdpa = [], tr.F.scaled_dot_product_attention

    def spy(q, k, v, dropout_p=0.0):
        seen.append(dropout_p)
        return sdpa(q, k, v, dropout_p=dropout_p)

    monkeypatch.setattr(tr.F, 'scaled_dot_product_attention', spy)
    model = _random_block_model(0.1)
    ids, labels = torch.randint(0, 17, (2, 16)), torch.tensor([0, 1])
    model.train()(ids, labels)
    model.eval()(ids, labels)
    assert seen == [0.1, 0.0]
    default = BidirectionalTransformer(16, grid=(4, 4), num_classes=3, size='tiny')
    assert default.blocks[0].attn.dropout == 0.0 and default.blocks[0].mlp.dropout == 0.0

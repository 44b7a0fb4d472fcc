import pytest
import torch

from bigfix_mm.apis import edit
from bigfix_mm.errors import InputValueError
from bigfix_mm.core.edit_masks import box_mask, token_mask
from tests.apis.conftest import BIT_HEAD, LFQ, LLAMAGEN, RGB, VQ, images_of, tiny_editor


def central(model, num=2, side_tokens=2):
    """(num, 1, H, W) bool: a token-aligned central box."""
    f, n = model.tokenizer.downsample, model.grid[-1]
    lo = (n - side_tokens) // 2 * f
    return box_mask((n * f, n * f), (lo, lo, lo + side_tokens * f, lo + side_tokens * f))[None] \
        .expand(num, -1, -1, -1)


@pytest.mark.parametrize('tokenizer,head', [(RGB, None), (RGB, BIT_HEAD), (VQ, None),
                                            (LFQ, BIT_HEAD), (LFQ, None)],
                         ids=['rgb-softmax', 'rgb-bits', 'vq-softmax', 'lfq-bits', 'lfq-softmax'])
def test_composite_keeps_the_original_outside_the_mask(tokenizer, head):
    model = tiny_editor(tokenizer, head=head)
    images, masks = images_of(model), central(model)
    out = edit(model, images, masks, labels=[0, 2], sampler='fix_all', seed=0)
    assert out.composite.shape == images.shape == out.decoded.shape
    assert torch.equal(out.region, masks)  # seam 0: exactly MMagic's composite
    assert torch.equal(out.composite[~masks.expand_as(images)], images[~masks.expand_as(images)])
    assert torch.equal(out.composite[masks.expand_as(images)],
                       out.decoded[masks.expand_as(images)])
    given = ~out.hole
    assert torch.equal(out.ids[given], out.tokens[given])  # given tokens never change


@pytest.mark.slow
def test_llamagen_vq16_tokenizer_edits():
    model = tiny_editor(LLAMAGEN, grid=(2, 2))
    images = images_of(model, num=1)
    mask = torch.zeros(1, 1, 32, 32, dtype=torch.bool)
    mask[..., :16, :16] = True
    out = edit(model, images, mask, labels=1, sampler='fix_low')
    assert torch.equal(out.composite[~mask.expand_as(images)], images[~mask.expand_as(images)])
    assert out.hole.sum() == 1


def test_outpainting_is_the_inverse_of_inpainting():
    model = tiny_editor()
    images, masks = images_of(model), central(model)
    inner = edit(model, images, masks, labels=[1, 1], seed=3)
    outer = edit(model, images, ~masks, labels=[1, 1], seed=3)
    assert torch.equal(outer.hole, ~inner.hole)
    keep = masks.expand_as(images)  # outpainting keeps what inpainting regenerates
    assert torch.equal(outer.composite[keep], images[keep])


def test_class_edit_changes_only_the_label():
    model = tiny_editor()
    images, masks = images_of(model), central(model)
    a = edit(model, images, masks, labels=[0, 0], seed=1)
    b = edit(model, images, masks, labels=[2, 2], seed=1)
    again = edit(model, images, masks, labels=[0, 0], seed=1)
    assert torch.equal(a.composite, again.composite)  # same seed, same edit
    assert not torch.equal(a.ids, b.ids)  # another class, another fill
    keep = ~masks.expand_as(images)
    assert torch.equal(a.composite[keep], b.composite[keep])


@pytest.mark.parametrize('seam', [1, 2])
def test_seam_fixing_changes_given_tokens_only_inside_the_band(seam):
    model = tiny_editor(grid=(8, 8))
    images = images_of(model, num=3)
    masks = central(model, num=3, side_tokens=2)
    out = edit(model, images, masks, labels=[0, 1, 2], sampler='fix_all', seam=seam, seed=0)
    hole = token_mask(masks, 4)
    assert torch.equal(out.hole, hole)
    assert int(out.band[0].sum()) == (2 + 2 * seam) ** 2 - 4
    outside = ~hole & ~out.band
    assert torch.equal(out.ids[outside], out.tokens[outside])
    assert bool((out.ids[out.band] != out.tokens[out.band]).any())  # the band was re-sampled
    assert bool((out.region | ~masks).all())  # the region grows around the mask only
    cells = out.region & ~masks
    pix = cells.expand_as(images)
    assert torch.equal(out.composite[pix], out.decoded[pix])
    assert torch.equal(out.composite[~out.region.expand_as(images)],
                       images[~out.region.expand_as(images)])


def test_rows_with_different_holes_are_edited_in_one_call():
    model = tiny_editor()
    images = images_of(model, num=3)
    masks = torch.zeros(3, 1, 16, 16, dtype=torch.bool)
    masks[0, :, :4, :4] = True
    masks[1, :, 4:12, 4:12] = True
    masks[2, :, 1, 1:9] = True
    out = edit(model, images, masks, labels=[0, 1, 2], seed=0)
    assert out.hole.sum((1, 2)).tolist() == [1, 4, 3]
    alone = edit(model, images[1:2], masks[1:2], labels=[1], seed=0)
    assert alone.composite.shape == (1, 3, 16, 16)


def test_bad_inputs_are_refused_before_sampling(monkeypatch):
    model = tiny_editor()
    images, masks = images_of(model), central(model)

    def never(*a, **k):
        raise AssertionError('sampled despite bad input')

    monkeypatch.setattr(model, 'sample', never)
    cases = [
        (dict(masks=masks[..., :8, :8]), 'mask has shape'),
        (dict(masks=torch.zeros_like(masks)), 'all False'),
        (dict(images=images[..., :14, :14], masks=masks[..., :14, :14]), 'multiple of'),
        (dict(images=images[..., :8, :8], masks=masks[..., :8, :8]), 'resize to 16x16'),
        (dict(labels=[0, 7]), 'out of range'),
        (dict(seam=-1), 'seam=-1'),
        (dict(seam=1, sampler='halton'), 'needs a fixing sampler'),
    ]
    for change, message in cases:
        kwargs = dict(images=images, masks=masks, labels=[0, 1], sampler='fix_low', seam=0)
        kwargs.update(change)
        with pytest.raises(InputValueError, match=message):
            edit(model, **kwargs)


def test_a_model_without_tokenizer_is_refused():
    torch.manual_seed(0)
    from bigfix_mm.registry import MODELS
    model = MODELS.build(dict(type='BIGFix', transformer=dict(
        type='BidirectionalTransformer', size=None, width=32, depth=1, heads=2, grid=(4, 4),
        num_classes=3, codebook_size=8))).eval()
    images = torch.rand(1, 3, 16, 16)
    with pytest.raises(InputValueError, match='model.tokenizer is None'):
        edit(model, images, torch.ones(1, 1, 16, 16, dtype=torch.bool), labels=[0])

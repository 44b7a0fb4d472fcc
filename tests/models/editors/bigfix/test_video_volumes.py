"""Token volumes (T, H, W) through every component, and given context frames."""
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from bigfix_mm.engine.hooks.fixing_sampler_hook import FixingSamplerHook, sample_grid
from bigfix_mm.core.context import frame_context_mask, resolve_context
from bigfix_mm.core.injection import INJECTION_MODES, TokenInjector
from bigfix_mm.core.schedules import halton_order
from bigfix_mm.models.editors.bigfix.transformer import BidirectionalTransformer
from bigfix_mm.registry import MODELS

GRID = (3, 4, 4)  # (T, H, W)
N = 48
K = 16


@pytest.fixture(scope='module')
def transformer():
    torch.manual_seed(0)
    model = BidirectionalTransformer(K, grid=GRID, num_classes=3, size=None, width=32, depth=2,
                                     heads=2).eval()
    for p in model.parameters():  # random, non-degenerate predictions
        torch.nn.init.normal_(p, std=0.3)
    return model


def video_model(**kw):
    cfg = dict(type='BIGFix', label_drop_prob=0.0,
               transformer=dict(type='BidirectionalTransformer', size=None, width=32, depth=2,
                                heads=2, codebook_size=8, grid=GRID, num_classes=3),
               tokenizer=dict(type='PerFrameTokenizer', tokenizer=dict(
                   type='RGBQuantTokenizer', levels=2, downsample=2)),
               sampler=dict(type='TokenFixingSampler', steps=4))
    cfg.update(kw)
    return MODELS.build(cfg)


def test_transformer_factorised_positions_and_volume_logits(transformer):
    assert transformer.pos_emb.shape == (16, 32) and transformer.time_emb.shape == (3, 32)
    pos = transformer.position_embedding()  # (T*H*W, D): time row + spatial row
    assert pos.shape == (N, 32)
    assert torch.allclose(pos[16 + 5], transformer.time_emb[1] + transformer.pos_emb[5])
    logits = transformer(torch.randint(0, K, (2, *GRID)), torch.tensor([0, 1]))
    assert logits.shape == (2, N, K + 1)
    with pytest.raises(ValueError, match='grid'):
        transformer(torch.randint(0, K, (2, 2, 4, 4)), torch.tensor([0, 1]))


@pytest.mark.parametrize('grid', [(3, 4, 4), (4, 3, 5), (8, 8, 8), (2, 6, 7)])
def test_3d_halton_order_covers_every_position_exactly_once(grid):
    order = halton_order(grid)
    n = int(np.prod(grid))
    assert order.shape == (n, ) and torch.equal(order.sort().values, torch.arange(n))
    frames_early = (order[:grid[0] * 2] // (grid[1] * grid[2])).unique()
    assert len(frames_early) == grid[0]  # early reveals spread over every frame


@pytest.mark.parametrize('mode', INJECTION_MODES)
def test_injection_on_volumes_respects_the_context_mask(mode):
    tokens = torch.randint(0, K, (4, *GRID), generator=torch.Generator().manual_seed(0))
    context_mask = frame_context_mask(GRID, torch.tensor([0, 1, 2, 1]))  # (B, N)
    inj = TokenInjector(K, injection_prob=0.5, mode=mode)
    out = inj(tokens, generator=torch.Generator().manual_seed(1), context_mask=context_mask)
    assert out.input_ids.shape == (4, N)
    assert not (out.masked & context_mask).any() and not (out.injected & context_mask).any()
    flat = tokens.reshape(4, -1)
    assert torch.equal(out.input_ids[context_mask], flat[context_mask])


def test_neighbour_injection_stays_in_its_frame():
    # every frame holds ids of its own range, so a cross-frame neighbour would show
    tokens = torch.arange(3).view(1, 3, 1, 1).expand(2, 3, 4, 4) * 5 + torch.randint(0, 5, (2, 3, 4, 4))
    out = TokenInjector(K, injection_prob=1.0, mode='neighbour', mask_ratio=0.0)(tokens)
    frame_of_pos = (torch.arange(N) // 16).expand(2, -1)
    assert out.injected.any()
    assert torch.equal(out.input_ids // 5, frame_of_pos)


SAMPLERS = [
    dict(type='MaskGITSampler', steps=4),
    dict(type='HaltonSampler', steps=4),
    dict(type='TokenFixingSampler', steps=4, fix='all'),
    dict(type='TokenFixingSampler', steps=4, fix='low_confidence', fix_ratio=0.3),
    dict(type='TokenFixingSampler', steps=4, reveal='confidence', fix='low_confidence', fix_ratio=0.3),
    dict(type='TokenFixingSampler', steps=4, reveal='confidence', fix='all', cfg_scale=1.0),
    dict(type='TokenFixingSampler', steps=4, fix='none', cfg_scale=2.0, top_k=8, temperature=(1.5, 0.5)),
]
IDS = [f"{c['type']}-{c.get('reveal', '')}-{c.get('fix', '')}" for c in SAMPLERS]
LABELS = torch.tensor([0, 1, 2, 1])


@pytest.mark.parametrize('cfg', SAMPLERS, ids=IDS)
def test_samplers_fill_volumes(cfg, transformer):
    ids, trace = MODELS.build(cfg)(transformer, LABELS, generator=torch.Generator().manual_seed(0),
                                   return_trace=True)
    assert ids.shape == (4, *GRID) and ids.max() < K
    assert torch.all(trace['placed'].sum(0) == 1)


@pytest.mark.parametrize('cfg', SAMPLERS, ids=IDS)
@pytest.mark.parametrize('k', [1, 2])
def test_given_frames_are_bit_identical_under_every_policy(cfg, k, transformer):
    context = torch.randint(0, K, (4, *GRID), generator=torch.Generator().manual_seed(3))
    sampler = MODELS.build(cfg)
    ids, trace = sampler(transformer, LABELS, generator=torch.Generator().manual_seed(0),
                         return_trace=True, context=context, context_frames=k)
    assert torch.equal(ids[:, :k], context[:, :k])
    context_mask = frame_context_mask(GRID, k).expand(4, -1)
    assert not (trace['placed'] & context_mask).any()
    assert not (trace['changed'] & context_mask).any()
    assert torch.all(trace['placed'].sum(0) == (~context_mask).long())  # the rest placed once
    assert ids.max() < K
    # only the first k frames given as (B, k, H, W): the same clip comes back
    ids2 = sampler(transformer, LABELS, generator=torch.Generator().manual_seed(0),
                   context=context[:, :k])
    assert torch.equal(ids2, ids)


def test_fixing_really_changes_free_tokens_with_context(transformer):
    context = torch.randint(0, K, (4, *GRID), generator=torch.Generator().manual_seed(3))
    sampler = MODELS.build(dict(type='TokenFixingSampler', steps=6, fix='all'))
    _, trace = sampler(transformer, LABELS, generator=torch.Generator().manual_seed(0),
                       return_trace=True, context=context, context_frames=1)
    assert trace['changed'].any()  # the test above is not vacuous


def test_arbitrary_context_mask_is_preserved(transformer):
    gen = torch.Generator().manual_seed(5)
    context_mask = torch.zeros(4, N, dtype=torch.bool)
    for row in range(4):  # 10 random given positions per row
        context_mask[row, torch.randperm(N, generator=gen)[:10]] = True
    context = torch.randint(0, K, (4, N), generator=gen)
    for cfg in SAMPLERS:
        ids = MODELS.build(cfg)(transformer, LABELS, generator=torch.Generator().manual_seed(0),
                                context=context, context_mask=context_mask).reshape(4, N)
        assert torch.equal(ids[context_mask], context[context_mask]), cfg


def test_context_errors_name_the_argument(transformer):
    sampler = MODELS.build(dict(type='HaltonSampler', steps=4))
    ctx = torch.randint(0, K, (4, *GRID))
    with pytest.raises(ValueError, match='context_frames=3'):
        sampler(transformer, LABELS, context=ctx, context_frames=3)
    with pytest.raises(ValueError, match='context_frames. .* .context_mask'):
        sampler(transformer, LABELS, context=ctx)
    with pytest.raises(ValueError, match='need the given token ids'):
        sampler(transformer, LABELS, context_frames=1)
    context_mask = torch.zeros(4, N, dtype=torch.bool)
    context_mask[0, :3] = True
    with pytest.raises(ValueError, match='same number'):
        sampler(transformer, LABELS, context=ctx, context_mask=context_mask)
    with pytest.raises(ValueError, match='out of range'):
        sampler(transformer, LABELS, context=ctx + K, context_frames=1)
    mask_, ids_ = resolve_context(GRID, 4, K)
    assert mask_ is None and ids_ is None


def test_bigfix_context_frames_range_and_training_context_mask():
    model = video_model(context_frames=(0, 2))
    assert model.context_frames == (0, 2)
    with pytest.raises(ValueError, match='model.context_frames'):
        video_model(context_frames=(1, 3))  # T = 3: at least one frame must be generated
    inputs = dict(tokens=torch.randint(0, 8, (64, *GRID)), labels=torch.zeros(64, dtype=torch.long))
    model.train()
    context_mask = model.context_mask_of(inputs, torch.Generator().manual_seed(0))
    context_mask = context_mask.view(64, 3, 16)
    per_frame = context_mask.all(-1) | ~context_mask.any(-1)
    assert per_frame.all()  # whole frames only
    ks = context_mask[:, :, 0].sum(1)
    assert set(ks.tolist()) == {0, 1, 2}  # k drawn from the inclusive range
    assert torch.equal(context_mask[:, :, 0], torch.arange(3) < ks[:, None])  # the first k frames
    model.eval()
    assert model.context_mask_of(inputs) is None  # evaluation: no random context


def test_bigfix_loss_excludes_given_frames():
    torch.manual_seed(0)
    model = video_model(context_frames=(1, 1),
                        injection=dict(injection_prob=0.0, mask_ratio=1.0)).train()
    tokens = torch.randint(0, 8, (2, *GRID))
    labels = torch.tensor([0, 2])
    out = model.loss(dict(tokens=tokens, labels=labels))
    flat = tokens.reshape(2, -1)
    context_mask = frame_context_mask(GRID, 1).expand(2, -1)
    ids = flat.masked_fill(~context_mask, 8)  # every free position masked, given frame visible
    logits = model.transformer(ids, labels)
    ce = torch.nn.functional.cross_entropy(logits.flatten(0, 1), flat.flatten(), reduction='none')
    expected = ce.view(2, -1)[:, 16:].mean()
    assert torch.allclose(out['loss'], expected, atol=1e-5)
    assert out['clean_acc'] == 0  # no clean visible free positions


def test_bigfix_rejects_pipeline_corruption_without_context_mask_when_drawing_context():
    model = video_model(context_frames=(0, 1)).train()
    t = torch.randint(0, 8, (2, N))
    inputs = dict(input_ids=t, masked=torch.zeros(2, N, dtype=torch.bool),
                  injected=torch.zeros(2, N, dtype=torch.bool), target=t,
                  labels=torch.zeros(2, dtype=torch.long))
    with pytest.raises(ValueError, match='RandomTokenInjection'):
        model.loss(inputs)
    inputs['context_mask'] = frame_context_mask(GRID, 1).expand(2, -1)
    assert torch.isfinite(model.loss(inputs)['loss'])


def test_validation_leaves_given_frames_out_of_the_loss():
    torch.manual_seed(0)
    model = video_model(context_frames=(0, 2)).eval()
    tokens = torch.randint(0, 8, (2, *GRID))
    labels = torch.tensor([0, 2])
    context_mask = frame_context_mask(GRID, torch.tensor([1, 2]))  # (2, N): 1 and 2 given frames
    inputs = dict(tokens=tokens, labels=labels, context_mask=context_mask)
    torch.manual_seed(1)
    stats = model.predict(inputs)
    torch.manual_seed(1)
    batch = model.corrupt(inputs)
    assert not (batch.masked & context_mask).any()
    assert not (batch.injected & context_mask).any()
    logits = model.transformer(batch.input_ids, labels)
    ce = torch.nn.functional.cross_entropy(logits.flatten(0, 1), batch.target.flatten(),
                                           reduction='none').view(2, -1)
    for i, k in enumerate((1, 2)):
        assert int(stats[i].num_tokens) == N - 16 * k
        assert torch.allclose(stats[i].ce_sum, ce[i, 16 * k:].sum(), rtol=1e-5)
        assert int(stats[i].clean_count) == int((~batch.masked[i] & ~batch.injected[i]
                                                    & ~context_mask[i]).sum())
    with pytest.raises(ValueError, match=r'context_frames=\(0, 2\).*ContextFrames'):
        model.predict(dict(tokens=tokens, labels=labels))  # no given frames: not the task


def test_bigfix_sample_predict_and_decode_on_volumes():
    model = video_model(context_frames=(0, 2))
    labels = torch.tensor([0, 1])
    tokens = model.sample(labels, generator=torch.Generator().manual_seed(0))
    assert tokens.shape == (2, *GRID)
    context = torch.randint(0, 8, (2, *GRID))
    for fix in ('none', 'all', 'low_confidence'):
        out = model.sample(labels, sampler=dict(type='TokenFixingSampler', steps=4, fix=fix),
                           generator=torch.Generator().manual_seed(0), context=context,
                           context_frames=2)
        assert torch.equal(out[:, :2], context[:, :2])
    clips = model.decode(tokens)
    assert clips.shape == (2, 3, 3, 8, 8)  # (B, T, 3, H, W), downsample 2
    model.eval()
    context_mask = frame_context_mask(GRID, 1).expand(2, -1)
    stats = model.predict(dict(tokens=tokens, labels=labels, context_mask=context_mask))
    assert len(stats) == 2 and stats[0].num_tokens == N - 16
    with pytest.raises(ValueError, match='evaluate with tools/eval_video.py'):
        model.generate_datasamples(dict(num_batches=2))


def test_generate_keeps_a_per_row_context_mask_across_batches():
    """generate() slices a (B, N) context_mask with the batches; a mask without
    context ids is refused, not ignored."""
    from bigfix_mm.apis import generate
    model = video_model().eval()
    labels = torch.tensor([0, 1, 2, 0])
    context = torch.randint(0, 8, (4, *GRID), generator=torch.Generator().manual_seed(2))
    context_mask = torch.zeros(4, N, dtype=torch.bool)
    gen = torch.Generator().manual_seed(3)
    for row in range(4):  # 7 given positions, different ones per row
        context_mask[row, torch.randperm(N, generator=gen)[:7]] = True
    _, ids = generate(model, labels, context=context, context_mask=context_mask, batch_size=3,
                      return_tokens=True)
    assert torch.equal(ids.reshape(4, N)[context_mask], context.reshape(4, N)[context_mask])
    with pytest.raises(ValueError, match='need the given token ids'):
        generate(model, labels, context_mask=context_mask)


def test_image_tokenizer_decode_of_volume_names_the_wrapper():
    model = video_model(tokenizer=dict(type='RGBQuantTokenizer', levels=2, downsample=2))
    with pytest.raises(ValueError, match='PerFrameTokenizer'):
        model.decode(torch.zeros(1, *GRID, dtype=torch.long))


def test_hook_writes_video_grids(tmp_path):
    model = video_model()
    images = []
    runner = SimpleNamespace(model=model, work_dir=str(tmp_path), iter=0, hooks=[],
                             visualizer=SimpleNamespace(add_image=lambda *a, **k: images.append(a)))
    hook = FixingSamplerHook(num_samples=2, sampler=dict(type='TokenFixingSampler', steps=4),
                             baseline=dict(type='HaltonSampler', steps=4))
    stats = hook.sample_and_save(runner, 'video')
    assert set(stats) == {'fixing/changed_per_step', 'fixing/fixed_share'}
    grid = images[0][1]  # (H', W', 3): 2 rows of 3 frames per sampler
    assert grid.shape[1] == 2 * (3 * (8 + 2) + 2) + 8
    assert grid.shape[0] > 2 * (8 + 2) + 2  # the grids, under a caption naming the samplers
    assert (tmp_path / 'samples' / 'video.png').is_file()
    assert sample_grid(torch.rand(2, 3, 8, 8)).shape == (12, 22, 3)  # images: one row of 2

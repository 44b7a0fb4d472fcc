"""Step pictures of a traced sampling run: grey masks and the two outline colours."""
import numpy as np
import torch

from bigfix_mm.registry import MODELS
from bigfix_mm.visualization.sampling_figures import (FIXED_COLOUR, MASK_HATCH, PLACED_COLOUR,
                                              render_steps, sampler_label, visualize_sampling)


def tiny_model():
    torch.manual_seed(0)
    return MODELS.build(dict(
        type='BIGFix',
        transformer=dict(type='BidirectionalTransformer', size=None, width=32, depth=1, heads=2,
                         codebook_size=27, grid=(4, 4), num_classes=3),
        tokenizer=dict(type='RGBQuantTokenizer', levels=3, downsample=4),
        sampler=dict(type='TokenFixingSampler', steps=4, fix='all', cfg_scale=0.0))).eval()


def test_render_steps_greys_masked_cells_and_outlines_placed_and_fixed_ones():
    model = tiny_model()
    _, trace = model.sample(torch.tensor([0, 1]), generator=torch.Generator().manual_seed(0),
                            return_trace=True)
    assert trace['changed'].any() and trace['placed'].any()  # fix='all' changes tokens
    scale, cell = 2, 4 * 2  # 4x4 pixels per token, doubled
    frames = render_steps(model, trace, scale=scale)
    assert frames.shape == (4, 2, 32, 32, 3) and frames.dtype == np.uint8
    for t in range(4):
        for b in range(2):
            for pos in range(16):
                r, c = divmod(pos, 4)
                tile = frames[t, b, r * cell:(r + 1) * cell, c * cell:(c + 1) * cell]
                corner, centre = tuple(tile[0, 0]), tile[cell // 2 - 1:cell // 2 + 1,
                                                         cell // 2 - 1:cell // 2 + 1]
                if trace['changed'][t, b, pos]:
                    assert corner == FIXED_COLOUR
                elif trace['placed'][t, b, pos]:
                    assert corner == PLACED_COLOUR
                if trace['ids'][t, b, pos] >= model.codebook_size:  # still masked: hatched
                    assert set(np.unique(centre)) <= set(MASK_HATCH) and len(np.unique(centre)) == 2
    # the last step decodes to the final image inside the outlines
    final = model.decode(trace['ids'][-1].view(2, 4, 4))
    inner = (final.clamp(0, 1) * 255).round().to(torch.uint8).permute(0, 2, 3, 1).numpy()
    assert np.array_equal(frames[-1, :, 3:5, 3:5], inner.repeat(2, 1).repeat(2, 2)[:, 3:5, 3:5])


def test_visualize_sampling_compares_with_the_twin_without_fixing():
    model = tiny_model()
    strip, frames = visualize_sampling(model, torch.tensor([0, 1, 2]), dict(model.sampler_cfg),
                                       seed=0, scale=2, row_labels=['a', 'b', 'c'])
    assert strip.ndim == 3 and strip.shape[2] == 3 and strip.shape[1] > 6 * 32
    assert len(frames) == 4 + 1 and len({f.shape for f in frames}) == 1
    assert sampler_label(MODELS.build(dict(type='TokenFixingSampler', fix='none'))) == \
        'TokenFixingSampler (fix=none, as HaltonSampler)'

"""Pictures of a sampling run: captions, step-by-step strips and GIFs.

A sampler called with ``return_trace=True`` reports, for every step, the grid
after the step (``ids``), the newly placed positions (``placed``) and those
changed by fixing (``changed``). :func:`render_steps` turns that into one image
per step and sample, with masked cells hatched grey, newly placed tokens outlined in
:data:`PLACED_COLOUR` and tokens changed by fixing in :data:`FIXED_COLOUR`.
"""
from typing import List, Optional, Sequence

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont

from bigfix_mm.models.editors.bigfix.sampler.presets import no_fixing_twin
from bigfix_mm.visualization.images import to_uint8, upscale

PLACED_COLOUR = (0, 170, 255)  # newly placed this step
FIXED_COLOUR = (255, 40, 160)  # placed earlier, changed by fixing this step
MASK_HATCH = (110, 170)  # grey levels of the diagonal stripes drawn on masked cells
LEGEND = 'blue outline: placed this step  |  pink outline: changed by fixing'


def sampler_label(sampler) -> str:
    """A sampler in a few words, e.g. ``TokenFixingSampler (fix=low_confidence 0.1)``."""
    name = type(sampler).__name__
    fix = getattr(sampler, 'fix', 'none')
    if fix == 'low_confidence':
        return f'{name} (fix=low_confidence {sampler.fix_ratio:g})'
    if fix != 'none':
        return f'{name} (fix={fix})'
    if name == 'TokenFixingSampler':  # the no-fixing twin: the plain sampler of its reveal
        plain = 'HaltonSampler' if sampler.reveal == 'halton' else 'MaskGITSampler'
        return f'{name} (fix=none, as {plain})'
    return name


def _font() -> ImageFont.ImageFont:
    return ImageFont.load_default()


def _wrap(text: str, width: int, draw: ImageDraw.ImageDraw, font) -> List[str]:
    lines, current = [], ''
    for word in text.split(' '):
        trial = f'{current} {word}'.strip()
        if current and draw.textlength(trial, font=font) > width:
            lines.append(current)
            current = word
        else:
            current = trial
    return lines + [current] if current else lines


def text_block(width: int, lines: Sequence[str], pad: int = 3) -> np.ndarray:
    """(h, width, 3) uint8: ``lines`` in black on white, wrapped to ``width``."""
    font = _font()
    probe = ImageDraw.Draw(Image.new('RGB', (1, 1)))
    wrapped = [w for line in lines for w in _wrap(line, width - 2 * pad, probe, font)]
    line_h = int(probe.textbbox((0, 0), 'Ag', font=font)[3]) + 2
    canvas = Image.new('RGB', (width, len(wrapped) * line_h + 2 * pad), 'white')
    draw = ImageDraw.Draw(canvas)
    for i, line in enumerate(wrapped):
        draw.text((pad, pad + i * line_h), line, fill='black', font=font)
    return np.asarray(canvas)


def with_header(image: np.ndarray, lines: Sequence[str]) -> np.ndarray:
    """``image`` (H, W, 3) uint8 with a caption of ``lines`` above it."""
    return np.concatenate([text_block(image.shape[1], lines), image], axis=0)


def hstack(images: Sequence[np.ndarray], gap: int = 8) -> np.ndarray:
    """Images side by side (top-aligned, white gaps)."""
    height = max(im.shape[0] for im in images)
    parts = []
    for i, im in enumerate(images):
        if im.shape[0] < height:
            im = np.concatenate([im, np.full((height - im.shape[0], *im.shape[1:]), 255,
                                             np.uint8)])
        parts += [im] + ([np.full((height, gap, 3), 255, np.uint8)] if i < len(images) - 1 else [])
    return np.concatenate(parts, axis=1)


def vstack(images: Sequence[np.ndarray], gap: int = 4) -> np.ndarray:
    """Images one above the other (left-aligned, white gaps)."""
    width = max(im.shape[1] for im in images)
    parts = []
    for i, im in enumerate(images):
        if im.shape[1] < width:
            im = np.concatenate([im, np.full((im.shape[0], width - im.shape[1], 3), 255,
                                             np.uint8)], axis=1)
        parts += [im] + ([np.full((gap, width, 3), 255, np.uint8)] if i < len(images) - 1 else [])
    return np.concatenate(parts, axis=0)


def labelled_halves(left: np.ndarray, right: np.ndarray, left_label: str, right_label: str,
                    common: Sequence[str] = ()) -> np.ndarray:
    """Two grids side by side, each captioned, with ``common`` lines above both."""
    heads = [text_block(left.shape[1], [left_label]), text_block(right.shape[1], [right_label])]
    height = max(h.shape[0] for h in heads)  # equal caption heights keep the grids aligned
    heads = [np.concatenate([h, np.full((height - h.shape[0], h.shape[1], 3), 255, np.uint8)])
             for h in heads]
    pair = hstack([np.concatenate([heads[0], left]), np.concatenate([heads[1], right])])
    return with_header(pair, common) if common else pair


def _cell_masks(mask: torch.Tensor, grid: Sequence[int]) -> np.ndarray:
    """(..., N) bool -> (..., h, w) bool numpy on the token grid."""
    return mask.reshape(*mask.shape[:-1], *grid[-2:]).cpu().numpy()


def _outline(image: np.ndarray, cells: np.ndarray, colour, width: int = 1) -> None:
    """Draw a ``width``-pixel frame in place around every True cell of ``cells`` (h, w)."""
    ch, cw = image.shape[0] // cells.shape[0], image.shape[1] // cells.shape[1]
    for r, c in zip(*np.nonzero(cells)):
        y, x = r * ch, c * cw
        image[y:y + width, x:x + cw] = colour
        image[y + ch - width:y + ch, x:x + cw] = colour
        image[y:y + ch, x:x + width] = colour
        image[y:y + ch, x + cw - width:x + cw] = colour


@torch.no_grad()
def render_steps(model, trace: dict, scale: int = 4) -> np.ndarray:
    """One picture per step and sample of a traced sampling run.

    Args:
        model: a :class:`BIGFix` with an image tokenizer.
        trace: the sampler's trace, (S, B, N) ``ids`` / ``placed`` / ``changed``.
        scale: pixel repetition, so that outlines stay visible on small images.

    Returns:
        (S, B, H*scale, W*scale, 3) uint8.
    """
    grid = tuple(model.grid)
    ids, placed, changed = trace['ids'], trace['placed'], trace['changed']
    steps, bsz, _ = ids.shape
    masked = ids >= model.codebook_size
    images = model.decode(ids.clamp(max=model.codebook_size - 1).reshape(steps * bsz, *grid))
    images = images.reshape(steps, bsz, *images.shape[1:])  # (S, B, 3, H, W)
    cells = _cell_masks(masked, grid)
    h, w = images.shape[-2:]
    pixel_mask = torch.from_numpy(cells.repeat(h // cells.shape[-2], -2)
                                  .repeat(w // cells.shape[-1], -1))  # (S, B, H, W)
    frames = upscale(to_uint8(images.flatten(0, 1)), scale).reshape(steps, bsz, h * scale,
                                                                     w * scale, 3).copy()
    big_mask = upscale(pixel_mask.numpy()[..., None], scale)[..., 0]  # (S, B, H*s, W*s)
    yy, xx = np.indices(big_mask.shape[-2:])
    hatch = np.where((yy + xx) // max(1, scale) % 2 == 0, *MASK_HATCH).astype(np.uint8)
    frames[big_mask] = np.broadcast_to(hatch, big_mask.shape)[big_mask][:, None]
    new_cells, fixed_cells = _cell_masks(placed, grid), _cell_masks(changed, grid)
    line = max(1, scale // 2)
    for t in range(steps):
        for b in range(bsz):
            _outline(frames[t, b], new_cells[t, b], PLACED_COLOUR, line)
            _outline(frames[t, b], fixed_cells[t, b], FIXED_COLOUR, line)
    return frames


def sampling_strip(frames: np.ndarray, fixing_final: np.ndarray, plain_final: np.ndarray,
                   fixing_label: str, plain_label: str, caption: Sequence[str],
                   row_labels: Optional[Sequence[str]] = None) -> np.ndarray:
    """One row per sample: every step of the fixing run, then both samplers' final images.

    Args:
        frames: (S, B, h, w, 3) uint8 from :func:`render_steps`.
        fixing_final / plain_final: (B, h, w, 3) uint8 final images of the two samplers.
        caption: lines above the strip (settings); the colour legend is added.
        row_labels: one label per sample (e.g. class names), left of each row.
    """
    steps, bsz = frames.shape[:2]
    tile_w = frames.shape[3]
    columns = [f'step {t + 1}' for t in range(steps)]
    head_steps = hstack([text_block(tile_w, [c]) for c in columns], gap=2)
    head_final = hstack([text_block(tile_w, ['fixing']), text_block(tile_w, ['plain'])], gap=2)
    rows = []
    for b in range(bsz):
        left = hstack([frames[t, b] for t in range(steps)], gap=2)
        right = hstack([fixing_final[b], plain_final[b]], gap=2)
        row = hstack([left, right], gap=12)
        if row_labels is not None:
            row = hstack([text_block(60, [row_labels[b]]), row], gap=2)
        rows.append(row)
    head = hstack([head_steps, head_final], gap=12)
    if row_labels is not None:
        head = hstack([np.full((head.shape[0], 60, 3), 255, np.uint8), head], gap=2)
    body = vstack([head] + rows, gap=2)
    lines = list(caption) + [f'final images, same seed: fixing = {fixing_label}; plain = '
                             f'{plain_label}', LEGEND]
    return with_header(body, lines)


def gif_frames(frames: np.ndarray, fixing_final: np.ndarray, plain_final: np.ndarray,
               fixing_label: str, plain_label: str) -> List[np.ndarray]:
    """GIF frames: each step of the fixing run (samples in a row), then both finals."""
    steps = frames.shape[0]
    out = [with_header(hstack(list(frames[t]), gap=2), [f'step {t + 1}/{steps}', LEGEND])
           for t in range(steps)]
    finals = labelled_halves(hstack(list(fixing_final), gap=2), hstack(list(plain_final), gap=2),
                             f'fixing: {fixing_label}', f'plain: {plain_label}',
                             ['final images, same seed'])
    out.append(finals)
    height = max(f.shape[0] for f in out)
    width = max(f.shape[1] for f in out)
    padded = []
    for f in out:
        canvas = np.full((height, width, 3), 255, np.uint8)
        canvas[:f.shape[0], :f.shape[1]] = f
        padded.append(canvas)
    return padded


@torch.no_grad()
def visualize_sampling(model, labels: torch.Tensor, sampler_cfg: dict, seed: int = 0,
                       scale: int = 4, row_labels: Optional[Sequence[str]] = None,
                       **overrides) -> tuple:
    """Trace one run of ``sampler_cfg`` and of its :func:`~bigfix_mm.models.editors.bigfix.sampler.no_fixing_twin` under the same seed.

    Args:
        model: a :class:`BIGFix` with an image tokenizer.
        labels: (B,) int64 class ids, one row of the strip each.
        overrides: sampler call overrides (``steps``, ``cfg_scale``).

    Returns:
        ``(strip, frames)``: the (H, W, 3) uint8 strip and the list of GIF frames.
    """
    from bigfix_mm.registry import MODELS
    labels = labels.to(model.device)
    runs = {}
    for name, cfg in (('fixing', sampler_cfg), ('plain', no_fixing_twin(sampler_cfg))):
        sampler = MODELS.build(cfg)
        gen = torch.Generator(device=model.device).manual_seed(seed)
        ids, trace = model.sample(labels, sampler=sampler, generator=gen, return_trace=True,
                                  **overrides)
        runs[name] = (sampler, ids, trace)
    fix_sampler, fix_ids, trace = runs['fixing']
    plain_sampler, plain_ids, _ = runs['plain']
    frames = render_steps(model, trace, scale)
    finals = [upscale(to_uint8(model.decode(i)), scale) for i in (fix_ids, plain_ids)]
    steps = frames.shape[0]
    cfg_scale = overrides.get('cfg_scale')
    cfg_scale = fix_sampler.cfg_scale if cfg_scale is None else cfg_scale
    fix_label, plain_label = sampler_label(fix_sampler), sampler_label(plain_sampler)
    caption = [f'{fix_label}: {steps} steps, CFG {cfg_scale:g}, seed {seed}']
    strip = sampling_strip(frames, finals[0], finals[1], fix_label, plain_label, caption,
                           row_labels)
    return strip, gif_frames(frames, finals[0], finals[1], fix_label, plain_label)

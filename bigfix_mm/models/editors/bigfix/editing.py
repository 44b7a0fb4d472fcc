"""Editing with given tokens: inpainting, outpainting and class edits.

An edit encodes the image, keeps the tokens outside the hole as given context
(``context_mask`` of the samplers), regenerates the hole under a label and
decodes. The pixel -> token rule and the seam band are in
:mod:`bigfix_mm.core.edit_masks`. The composite keeps the original pixels
wherever no token changed, as MMagic's inpainting models keep them outside the
mask: its region is the pixel mask, plus (seam fixing only) the cells of given
tokens that the sampler re-sampled to another id.
"""
from dataclasses import dataclass
from typing import Optional, Union

import torch

from bigfix_mm.errors import InputValueError
from bigfix_mm.registry import MODELS
from bigfix_mm.core.edit_masks import seam_band, token_mask, token_to_pixel


SamplerSpec = Union[None, str, dict, object]


def resolve_sampler(model, sampler: SamplerSpec, steps: Optional[int] = None,
                    cfg_scale: Optional[float] = None):
    """A sampler object from a preset name (steps / guidance default to the model's
    sampler's), a config, an object, or None (the model's own sampler)."""
    if sampler is None:
        return model.sampler
    if isinstance(sampler, str):
        # raises InputValueError for unknown names
        from bigfix_mm.models.editors.bigfix.sampler.presets import build_sampler
        steps = model.sampler_cfg.get('steps') if steps is None else steps
        cfg_scale = model.sampler_cfg.get('cfg_scale') if cfg_scale is None else cfg_scale
        return build_sampler(sampler, steps=steps, cfg_scale=cfg_scale)
    return MODELS.build(sampler) if isinstance(sampler, dict) else sampler


@dataclass
class EditOutput:
    """One edited batch (CPU tensors).

    composite: (B, 3, H, W) float RGB in [0, 1], original pixels outside ``region``.
    decoded: (B, 3, H, W) float RGB in [0, 1], the decoded token grid.
    region: (B, 1, H, W) bool, where ``composite`` takes ``decoded``.
    hole: (B, h, w) bool regenerated tokens; band: (B, h, w) bool given tokens
    the sampler was allowed to re-sample (seam); tokens: (B, h, w) int64 given
    ids (encoded image); ids: (B, h, w) int64 final ids.
    """

    composite: torch.Tensor
    decoded: torch.Tensor
    region: torch.Tensor
    hole: torch.Tensor
    band: torch.Tensor
    tokens: torch.Tensor
    ids: torch.Tensor


def check_edit_inputs(model, images: torch.Tensor, masks: torch.Tensor,
                      labels: torch.Tensor, seam: int = 0, sampler=None) -> None:
    """Refuse what an edit cannot take, naming the field and the fix
    (:class:`InputValueError`). Shapes: images (B, 3, H, W), masks (B, 1, H, W)
    bool, labels (B,) int64 (``num_classes`` = unconditional)."""
    tokenizer = getattr(model, 'tokenizer', None)
    if tokenizer is None:
        raise InputValueError('model.tokenizer is None: this checkpoint\'s config has no '
                              'tokenizer, so images cannot be encoded for editing. Fix: use the '
                              'config with model.tokenizer that produced its tokens.')
    if getattr(tokenizer, 'is_video', False):
        raise InputValueError(f'model.tokenizer is a video tokenizer ({type(tokenizer).__name__})'
                              ': editing takes images. Fix: use an image model.')
    if images.dim() != 4 or images.shape[1] != 3:
        raise InputValueError(f'images has shape {tuple(images.shape)}; expected (B, 3, H, W) '
                              'RGB in [0, 1].')
    factor = tokenizer.downsample
    height, width = images.shape[-2:]
    if height % factor or width % factor:
        raise InputValueError(
            f'images are {height}x{width}: not a multiple of the tokenizer\'s factor {factor} '
            f'({type(tokenizer).__name__}). Fix: resize or crop to '
            f'{height // factor * factor or factor}x{width // factor * factor or factor}.')
    grid = tuple(model.grid[-2:])
    if (height // factor, width // factor) != grid:
        raise InputValueError(
            f'images are {height}x{width} = {height // factor}x{width // factor} tokens; the '
            f'model generates {grid[0]}x{grid[1]} tokens. Fix: resize to '
            f'{grid[0] * factor}x{grid[1] * factor}.')
    if tuple(masks.shape) != (images.shape[0], 1, height, width):
        raise InputValueError(
            f'mask has shape {tuple(masks.shape)}; expected (B, 1, H, W) = '
            f'({images.shape[0]}, 1, {height}, {width}), the size of the image. Fix: give a '
            'mask of the image\'s size (True / white = regenerate).')
    empty = [i for i, m in enumerate(masks) if not bool(m.any())]
    if empty:
        raise InputValueError(f'mask of image(s) {empty} is all False: nothing to regenerate. '
                              'Fix: mark the region to regenerate (True / white).')
    if labels.shape != (images.shape[0], ):
        raise InputValueError(f'labels has shape {tuple(labels.shape)}; expected '
                              f'({images.shape[0]},), one class per image.')
    bad = [int(v) for v in labels if not 0 <= int(v) <= model.num_classes]
    if bad:
        raise InputValueError(f'label(s) {bad} out of range: the model has {model.num_classes} '
                              f'classes. Fix: use 0..{model.num_classes - 1} (or '
                              f'{model.num_classes} for no class).')
    if int(seam) < 0:
        raise InputValueError(f'seam={seam} must be >= 0 (tokens around the hole that fixing '
                              'may re-sample).')
    if int(seam) > 0 and sampler is not None and getattr(sampler, 'fix', 'none') == 'none':
        raise InputValueError(f'seam={seam} needs a fixing sampler ({type(sampler).__name__} '
                              'never changes a placed token). Fix: use a fixing preset '
                              '(fix_low, fix_all) or seam=0.')


@torch.no_grad()
def edit_batch(model, images: torch.Tensor, masks: torch.Tensor, labels: torch.Tensor,
               sampler, seam: int = 0, generator: Optional[torch.Generator] = None,
               **sampler_kwargs) -> EditOutput:
    """Edit one batch (inputs checked by :func:`check_edit_inputs`).

    Rows with the same numbers of given and fixable tokens are sampled together
    (the samplers need one count per batch), in order of first appearance, from
    the one ``generator``. A hole of n tokens is sampled in min(steps, n) steps.
    """
    device = model.device
    factor = model.tokenizer.downsample
    images = images.to(device).float()
    masks = masks.to(device).bool()
    tokens = model.tokenizer.encode(images).long()  # (B, h, w)
    hole = token_mask(masks, factor)  # (B, h, w)
    band = seam_band(hole, int(seam))
    bsz = images.shape[0]
    given = ~hole.reshape(bsz, -1)
    fixable = band.reshape(bsz, -1)
    ids = torch.empty_like(tokens)
    keys = torch.stack([given.sum(1), fixable.sum(1)], 1).tolist()
    steps = sampler_kwargs.pop('steps', None) or sampler.steps
    for key in dict.fromkeys(map(tuple, keys)):
        rows = torch.tensor([i for i, k in enumerate(keys) if tuple(k) == key], device=device)
        out = model.sample(labels.to(device)[rows], sampler=sampler, generator=generator,
                           context=tokens[rows].unsqueeze(1), context_mask=given[rows],
                           fixable_mask=fixable[rows], steps=min(steps, hole[0].numel() - key[0]),
                           **sampler_kwargs)  # (b, 1, h, w)
        ids[rows] = out.reshape(len(rows), *tokens.shape[1:])
    decoded = model.decode(ids).float()  # (B, 3, H, W)
    region = masks | token_to_pixel(band & (ids != tokens), factor)
    composite = torch.where(region, decoded, images)
    return EditOutput(composite=composite.cpu(), decoded=decoded.cpu(), region=region.cpu(),
                      hole=hole.cpu(), band=band.cpu(), tokens=tokens.cpu(), ids=ids.cpu())

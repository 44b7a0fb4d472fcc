"""``edit``: inpainting, outpainting and class edits of images with a BIGFix model.

>>> from bigfix_mm.apis import edit, init_model
>>> model = init_model(CONFIG, CHECKPOINT)
>>> out = edit(model, images, masks, labels=[3, 3], sampler='fix_low', seam=1, seed=0)
>>> out.composite  # (B, 3, H, W) in [0, 1]: original pixels outside the edited region

- inpainting: ``masks`` True inside the hole;
- outpainting: the inverse mask (``~masks``), e.g. everything but a central box;
- class edit: the masked region regenerated under another label.

A token is regenerated if any of its pixels is masked
(:mod:`bigfix_mm.core.edit_masks`); ``seam=w`` lets a fixing sampler also
re-sample the given tokens within w tokens of the hole (an option beyond the
authors' code, whose given tokens never change).
"""
from typing import Sequence, Union

import numpy as np
import torch

from bigfix_mm.models.editors.bigfix.editing import (EditOutput, SamplerSpec, check_edit_inputs,
                                                     edit_batch, resolve_sampler)

def _as_tensor(value, dtype=None) -> torch.Tensor:
    return torch.as_tensor(np.asarray(value) if not isinstance(value, torch.Tensor) else value,
                           dtype=dtype)


@torch.no_grad()
def edit(model: torch.nn.Module,
         images: torch.Tensor,
         masks: torch.Tensor,
         labels: Union[int, Sequence[int], torch.Tensor],
         sampler: SamplerSpec = None,
         seam: int = 0,
         seed: int = 0,
         batch_size: int = 64,
         **sampler_kwargs) -> EditOutput:
    """Regenerate the masked regions of ``images``.

    Args:
        model: a :class:`BIGFix` with an image tokenizer.
        images: (B, 3, H, W) float RGB in [0, 1]; H, W the model's image size.
        masks: (B, 1, H, W) bool, True = regenerate (one (1, H, W) mask is shared).
        labels: (B,) classes (one int for all); ``num_classes`` = no class.
        sampler: a preset name (``maskgit``, ``halton``, ``fix_all``, ``fix_low``,
            ...), a sampler config or object, or None for the model's sampler.
        seam: w, the width in tokens of the band of given tokens around the hole
            that a fixing sampler may re-sample (0: given tokens never change).
        seed: seeds one generator for the whole call.
        batch_size: images per sampling batch.
        **sampler_kwargs: sampler overrides (steps, cfg_scale, ...).

    Returns:
        :class:`~bigfix_mm.models.editors.bigfix.editing.EditOutput` (CPU): ``composite``,
        ``decoded``, ``region``, ``hole``, ``band``, ``tokens``, ``ids``. The same
        seed, inputs and batch size give the same output.
    """
    images = _as_tensor(images).float()
    masks = _as_tensor(masks).bool()
    if masks.dim() == 3 and images.dim() == 4:  # one (1, H, W) mask for every image
        masks = masks.unsqueeze(0).expand(images.shape[0], -1, -1, -1)
    labels = _as_tensor(labels, torch.long).reshape(-1)
    if labels.numel() == 1 and images.dim() == 4:
        labels = labels.expand(images.shape[0])
    if isinstance(sampler, str):  # a preset takes steps / guidance when it is built
        sampler = resolve_sampler(model, sampler, sampler_kwargs.pop('steps', None),
                                  sampler_kwargs.pop('cfg_scale', None))
    built = resolve_sampler(model, sampler)
    check_edit_inputs(model, images, masks, labels, seam, built)
    gen = torch.Generator(device=model.device).manual_seed(int(seed))
    parts = [edit_batch(model, images[i:i + batch_size], masks[i:i + batch_size],
                        labels[i:i + batch_size], built, int(seam), gen, **sampler_kwargs)
             for i in range(0, images.shape[0], batch_size)]
    return EditOutput(**{field: torch.cat([getattr(p, field) for p in parts])
                         for field in EditOutput.__dataclass_fields__})

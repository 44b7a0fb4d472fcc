"""BIGFix under MMagic's inpainting contract.

MMagic's ``InpaintingInferencer`` and its inpainting test pipelines
(``LoadMask`` -> ``GetMaskedImage`` -> ``PackInputs``) call
``model(mode='predict', inputs, data_samples)`` with ``inputs`` the masked
images, (3, H, W) float BGR in [0, 255] each (holes filled with 127.5), and data
samples carrying ``mask`` (1, H, W), 1 = hole. An inpainting model answers each
data sample with ``output = DataSample(fake_res=raw, fake_img=composite,
pred_img=composite)`` in the same value range, which ``InpaintingInferencer``
writes and MMagic's MAE / PSNR / SSIM read. This module is that answer for BIGFix
(:func:`inpainting_datasamples`); nothing in MMagic is changed.

Settings come from the model's ``edit_cfg`` (``BIGFix(edit_cfg=...)``):
``sampler`` (a preset name or config; default the model's sampler), ``seam``
(default 0), ``seed`` (default 0) and ``label`` (the class to inpaint under when
the data samples carry no ``gt_label``; default none, i.e. unconditional).
"""
from typing import Any, List, Sequence

import torch

from bigfix_mm.models.editors.bigfix.editing import check_edit_inputs, edit_batch, resolve_sampler

EDIT_CFG_KEYS = ('sampler', 'seam', 'seed', 'label')


def check_edit_cfg(edit_cfg: dict) -> dict:
    """``edit_cfg`` with only known keys (a typo is an error naming the key)."""
    unknown = sorted(set(edit_cfg) - set(EDIT_CFG_KEYS))
    if unknown:
        raise ValueError(f'model.edit_cfg has unknown key(s) {unknown}; known: '
                         f'{list(EDIT_CFG_KEYS)}')
    return dict(edit_cfg)


def is_inpainting_request(inputs: Any, data_samples: Any) -> bool:
    """True for MMagic inpainting batches: image tensors plus data samples with ``mask``."""
    images = inputs if isinstance(inputs, torch.Tensor) else None
    if isinstance(inputs, (list, tuple)) and inputs and all(
            isinstance(i, torch.Tensor) for i in inputs):
        images = inputs[0]
    if images is None or images.shape[-3] != 3:
        return False
    samples = data_samples if isinstance(data_samples, (list, tuple)) else [data_samples]
    return bool(samples) and all(s is not None and 'mask' in s for s in samples)


def _split(data_samples: Any) -> List[Any]:
    if isinstance(data_samples, (list, tuple)):
        return list(data_samples)
    return list(data_samples.split())  # a stacked MMagic DataSample


def _label_of(sample: Any, default: int) -> int:
    if 'gt_label' in sample:
        return int(torch.as_tensor(sample.gt_label.label).reshape(-1)[0])
    return default


@torch.no_grad()
def inpainting_datasamples(model, inputs: Any, data_samples: Any) -> Sequence[Any]:
    """Inpaint MMagic's batch; returns its data samples with ``output`` set."""
    from mmagic.structures import DataSample
    samples = _split(data_samples)
    images = inputs if isinstance(inputs, torch.Tensor) else torch.stack(list(inputs))
    images = images.to(model.device).float().flip(1) / 255.0  # BGR [0, 255] -> RGB [0, 1]
    masks = torch.stack([torch.as_tensor(s.mask).reshape(1, *images.shape[-2:])
                         for s in samples]).to(model.device) > 0
    cfg = model.edit_cfg
    default = cfg.get('label')
    default = model.num_classes if default is None else int(default)
    labels = torch.tensor([_label_of(s, default) for s in samples], dtype=torch.long)
    sampler = resolve_sampler(model, cfg.get('sampler'))
    seam = int(cfg.get('seam', 0))
    check_edit_inputs(model, images, masks, labels, seam, sampler)
    out = edit_batch(model, images, masks, labels, sampler, seam,
                     model._eval_generator(int(cfg.get('seed', 0))))
    composite = out.composite.flip(1) * 255.0  # (B, 3, H, W) BGR in [0, 255]
    raw = out.decoded.flip(1) * 255.0
    for sample, comp, res in zip(samples, composite, raw):
        sample.output = DataSample(fake_res=res, fake_img=comp, pred_img=comp)
    return samples

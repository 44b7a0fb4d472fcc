"""Moves token batches to the model's device and normalises their dtypes."""
from typing import Any

import torch
from mmengine.model import BaseDataPreprocessor
from torch.utils.data import default_collate

from bigfix_mm.registry import MODELS

_LONG_KEYS = ('tokens', 'input_ids', 'target', 'labels')
_BOOL_KEYS = ('masked', 'injected', 'context_mask')


@MODELS.register_module()
class TokenDataPreprocessor(BaseDataPreprocessor):
    """Casts a collated batch ``dict(inputs=dict(...), data_samples=...)``.

    ``inputs`` holds any of: ``tokens`` (B, *grid) clean ids, ``input_ids`` /
    ``masked`` / ``injected`` (B, *grid) from the injection transform,
    ``labels`` (B,), ``img`` (B, 3, H, W) uint8 RGB. Generation requests from
    MMagic's loops (``num_batches``, ``sample_model``, ...) pass through untouched.
    Pseudo-collated batches (``pseudo_collate``: lists of per-sample tensors,
    as MMagic's metrics load real images) are stacked here. When the data
    samples carry ``gt_img`` (``PackTokenInputs(gt_img=True)``), they become one
    MMagic ``DataSample`` whose ``gt_img`` is (B, 3, H, W) float BGR in [0, 255].
    """

    def forward(self, data: dict, training: bool = False) -> dict:
        data = self.cast_data(data)
        inputs: Any = data.get('inputs', {})
        if isinstance(inputs, (list, tuple)) and inputs and isinstance(inputs[0], dict):
            inputs = default_collate(list(inputs))
        if isinstance(inputs, dict):
            inputs = {k: _stack_list(v) for k, v in inputs.items()}
            for key in _LONG_KEYS:
                if key in inputs and isinstance(inputs[key], torch.Tensor):
                    inputs[key] = inputs[key].long()
            for key in _BOOL_KEYS:
                if key in inputs and isinstance(inputs[key], torch.Tensor):
                    inputs[key] = inputs[key].bool()
            if 'labels' in inputs and isinstance(inputs['labels'], torch.Tensor):
                inputs['labels'] = inputs['labels'].reshape(-1)
        return dict(inputs=inputs, data_samples=stack_real_images(data.get('data_samples')))


def stack_real_images(data_samples: Any) -> Any:
    """Data samples with ``gt_img`` -> one MMagic ``DataSample`` (B, 3, H, W) float BGR.

    Accepts a collated dict (``gt_img`` (B, 3, H, W)), a pseudo-collated dict
    (``gt_img`` a list of B (3, H, W)) or a list of per-sample dicts; anything
    else is returned unchanged.
    """
    if isinstance(data_samples, dict) and isinstance(_stack_list(data_samples.get('gt_img')),
                                                     torch.Tensor):
        gt_img = _stack_list(data_samples['gt_img'])
    elif (isinstance(data_samples, (list, tuple)) and data_samples
          and all(isinstance(d, dict) and 'gt_img' in d for d in data_samples)):
        gt_img = torch.stack([torch.as_tensor(d['gt_img']) for d in data_samples])
    else:
        return data_samples
    from mmagic.structures import DataSample  # lazy: keeps the package import light
    return DataSample(gt_img=gt_img.float())


def _stack_list(value: Any) -> Any:
    """A list of same-shape tensors -> one stacked tensor; anything else unchanged."""
    if (isinstance(value, (list, tuple)) and value
            and all(isinstance(v, torch.Tensor) for v in value)
            and all(v.shape == value[0].shape for v in value)):
        return torch.stack(list(value))
    return value

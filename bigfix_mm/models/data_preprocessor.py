"""Moves token batches to the model's device and normalises their dtypes."""
from typing import Any

import torch
from mmengine.model import BaseDataPreprocessor

from bigfix_mm.registry import MODELS

_LONG_KEYS = ('tokens', 'input_ids', 'target', 'labels')
_BOOL_KEYS = ('masked', 'injected', 'keep')


@MODELS.register_module()
class TokenDataPreprocessor(BaseDataPreprocessor):
    """Casts a collated batch ``dict(inputs=dict(...), data_samples=...)``.

    ``inputs`` holds any of: ``tokens`` (B, *grid) clean ids, ``input_ids`` /
    ``masked`` / ``injected`` (B, *grid) from the injection transform,
    ``labels`` (B,), ``img`` (B, 3, H, W) uint8 RGB. Generation requests from
    MMagic's loops (``num_batches``, ``sample_model``, ...) pass through untouched.
    """

    def forward(self, data: dict, training: bool = False) -> dict:
        data = self.cast_data(data)
        inputs: Any = data.get('inputs', {})
        if isinstance(inputs, dict):
            for key in _LONG_KEYS:
                if key in inputs and isinstance(inputs[key], torch.Tensor):
                    inputs[key] = inputs[key].long()
            for key in _BOOL_KEYS:
                if key in inputs and isinstance(inputs[key], torch.Tensor):
                    inputs[key] = inputs[key].bool()
            if 'labels' in inputs and isinstance(inputs['labels'], torch.Tensor):
                inputs['labels'] = inputs['labels'].reshape(-1)
        return dict(inputs=inputs, data_samples=data.get('data_samples'))

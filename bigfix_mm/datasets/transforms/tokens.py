"""Data transforms of the token pipeline (TRANSFORMS registry)."""
from typing import Optional, Sequence

import numpy as np
import torch
from mmcv.transforms import BaseTransform

from bigfix_mm.core.context import check_frame_range, frame_context_mask, sample_context_frames
from bigfix_mm.core.injection import TokenInjector
from bigfix_mm.registry import MODELS, TRANSFORMS

UNRESOLVED = ("in a BIGFix config it takes the model's; load the config through tools/*.py or "
              'bigfix_mm.engine.config_checks.resolve_config(cfg).')


def build_pipeline_tokenizer(transform: str, tokenizer: Optional[dict]):
    """Build a transform's tokenizer config (``model.tokenizer`` in a BIGFix config)."""
    if tokenizer is None:
        raise ValueError(f'{transform} has no tokenizer: {UNRESOLVED}')
    return MODELS.build(tokenizer)


@TRANSFORMS.register_module()
class TokenizeImage(BaseTransform):
    """Encode ``results['img']`` ((H, W, 3) uint8 RGB) into ``results['tokens']``.

    Args:
        tokenizer: config of a tokenizer (built once per worker; cheap tokenizers
            only, e.g. RGB quantisation; VQ tokenizers belong to token extraction).
            In a BIGFix config leave it out: it is ``model.tokenizer``.

    Adds ``tokens``: (1, h, w) int64 tensor.
    """

    def __init__(self, tokenizer: Optional[dict] = None):
        self.tokenizer = build_pipeline_tokenizer('TokenizeImage', tokenizer)

    def transform(self, results: dict) -> dict:
        img = np.array(results["img"], dtype=np.uint8)  # writable copy
        x = torch.from_numpy(img).permute(2, 0, 1)[None].float() / 255.0  # (1, 3, H, W)
        results['tokens'] = self.tokenizer.encode(x)  # (1, h, w)
        return results


@TRANSFORMS.register_module()
class ContextFrames(BaseTransform):
    """Give the first k frames of a token volume, as training does (frame prediction).

    k is drawn uniformly from the inclusive ``frame_range`` per sample, the
    model's ``context_frames`` range. Place it before ``RandomTokenInjection``,
    which then neither masks nor injects those frames; the model leaves them
    out of the validation loss and accuracies.

    Args:
        frame_range: (min, max) number of given frames.
        seed: if set, sample ``i`` draws k with seed ``seed + sample_idx``
            (deterministic validation); else the worker's global RNG is used.

    Reads ``tokens`` ((T, H, W) int64); adds ``context_mask`` ((T, H, W) bool,
    True at the given frames).
    """

    def __init__(self, frame_range: Sequence[int], seed: Optional[int] = None):
        self.frame_range = tuple(int(v) for v in frame_range)
        self.seed = seed

    def transform(self, results: dict) -> dict:
        shape = tuple(torch.as_tensor(results['tokens']).shape)
        if len(shape) != 3:
            raise ValueError(f'ContextFrames needs (T, H, W) token volumes, got tokens of shape '
                             f'{shape}')
        check_frame_range(self.frame_range, shape[0], 'ContextFrames.frame_range')
        generator = None
        if self.seed is not None:
            generator = torch.Generator().manual_seed(self.seed + int(results.get('sample_idx', 0)))
        k = sample_context_frames(1, self.frame_range, generator)  # (1,)
        results['context_mask'] = frame_context_mask(shape, k)[0].reshape(shape)
        return results


@TRANSFORMS.register_module()
class RandomTokenInjection(BaseTransform):
    """BIGFix corruption of one sample: mask, then inject random visible tokens.

    Thin face of :class:`bigfix_mm.core.injection.TokenInjector` (the one
    implementation). In a BIGFix config write only ``dict(type='RandomTokenInjection')``
    (plus ``seed`` for validation): its settings are the model's,
    ``model.injection`` and the codebook size, handed over by
    :func:`bigfix_mm.engine.config_checks.resolve_config`, so one
    ``--cfg-options model.injection.injection_prob=P`` reaches every place.

    Args:
        codebook_size: K of the tokens.
        injection_prob: p, probability that a visible token is replaced (0.2).
        mode: ``shuffle`` | ``uniform`` | ``frequency`` | ``neighbour`` | ``bit_flip``.
        unigram: (K,) frequencies for ``frequency`` mode (else per-sample counts).
        mask_ratio: fixed ratio instead of the arccos schedule.
        seed: if set, sample ``i`` is corrupted with seed ``seed + sample_idx``
            (deterministic validation); else the worker's global RNG is used.

    Reads ``tokens`` ((T, H, W) or (1, H, W) int64); adds ``input_ids``,
    ``masked``, ``injected`` and ``target``, each of the same shape.
    """

    def __init__(self,
                 codebook_size: Optional[int] = None,
                 injection_prob: float = 0.2,
                 mode: str = 'shuffle',
                 unigram: Optional[Sequence[float]] = None,
                 mask_ratio: Optional[float] = None,
                 seed: Optional[int] = None):
        if codebook_size is None:
            raise ValueError(f'RandomTokenInjection has no codebook_size: {UNRESOLVED}')
        self.injector = TokenInjector(codebook_size, injection_prob, mode, unigram, mask_ratio)
        self.seed = seed

    def transform(self, results: dict) -> dict:
        tokens = torch.as_tensor(results['tokens']).long()
        shape = tokens.shape
        generator = None
        if self.seed is not None:
            generator = torch.Generator().manual_seed(self.seed + int(results.get('sample_idx', 0)))
        context_mask = results.get('context_mask')  # (T, H, W) bool from ContextFrames
        if context_mask is not None:
            context_mask = torch.as_tensor(context_mask).reshape(1, -1)
        out = self.injector(tokens.reshape(1, -1), grid=shape if tokens.dim() >= 2 else None,
                            generator=generator, context_mask=context_mask)
        for key, value in out._asdict().items():
            results[key] = value.reshape(shape)
        return results


@TRANSFORMS.register_module()
class PackTokenInputs(BaseTransform):
    """Collect token tensors and the label into ``dict(inputs=..., data_samples=...)``.

    ``inputs`` holds every present key of ``keys`` plus ``labels`` (int64 scalar);
    use with ``collate_fn=dict(type='default_collate')``.

    Args:
        keys: result keys copied into ``inputs`` (``img`` becomes (3, H, W) uint8 RGB).
        gt_img: also put the image into ``data_samples['gt_img']`` as a (3, H, W)
            uint8 **BGR** tensor: the real images MMagic's generative metrics
            (FID, PR, EfficientNet FD) read after the data preprocessor.
    """

    def __init__(self, keys: Sequence[str] = ('tokens', 'input_ids', 'masked', 'injected', 'target',
                                              'context_mask', 'img'),
                 gt_img: bool = False):
        self.keys = tuple(keys)
        self.gt_img = bool(gt_img)

    def transform(self, results: dict) -> dict:
        inputs = {}
        for key in self.keys:
            if key not in results:
                continue
            value = results[key]
            if key == 'img':
                value = torch.from_numpy(np.array(value, dtype=np.uint8)).permute(2, 0, 1)  # (3, H, W)
            inputs[key] = torch.as_tensor(value)
        inputs['labels'] = torch.tensor(int(results.get('gt_label', 0)), dtype=torch.long)
        data_samples = dict(sample_idx=int(results.get('sample_idx', 0)))
        if self.gt_img:
            if 'img' not in results:
                raise KeyError('PackTokenInputs(gt_img=True) needs `img` in the results: load '
                               'images (e.g. CIFAR10JPEG) rather than pre-extracted tokens.')
            rgb = np.array(results['img'], dtype=np.uint8)  # (H, W, 3) RGB
            data_samples['gt_img'] = torch.from_numpy(rgb[..., ::-1].copy()).permute(2, 0, 1)
        return dict(inputs=inputs, data_samples=data_samples)

"""BIGFix: a MaskGIT-style generator trained to fix wrong tokens."""
import weakref
from typing import Dict, List, Optional, Sequence, Union

import torch
from mmengine.model import BaseModel
from mmengine.optim import OptimWrapper

from bigfix_mm.core.nonfinite import check_parsed_loss, guarded_update
from bigfix_mm.core.sampling import balanced_labels
from bigfix_mm.models.editors.bigfix.sampler.presets import DEFAULT_SAMPLER
from bigfix_mm.registry import MODELS
from bigfix_mm.core.context import check_frame_range, frame_context_mask, sample_context_frames
from bigfix_mm.core.injection import CorruptedTokens, TokenInjector
from bigfix_mm.models.editors.bigfix.inpainting import (check_edit_cfg, inpainting_datasamples,
                                                        is_inpainting_request)


@MODELS.register_module()
class BIGFix(BaseModel):
    """The token-fixing generator.

    Args:
        transformer: config of a :class:`BidirectionalTransformer` (or a built
            instance, e.g. for scripts that avoid registry look-ups). Without
            ``codebook_size`` it takes the tokenizer's.
        tokenizer: config of a frozen tokenizer, or None when the data are tokens
            (then images cannot be decoded by :meth:`generate_images`).
        injection: kwargs of :class:`TokenInjector` (without ``codebook_size``):
            the run's one statement of the corruption (``injection_prob``,
            ``mode``). Applied here, batched, when a batch carries clean
            ``tokens`` or ``img``; a pipeline's ``RandomTokenInjection`` gets the
            same settings from it (``bigfix_mm.engine.config_checks``) and its
            batches are used as given.
        label_drop_prob: probability of training a sample unconditionally (CFG).
        sampler: config of the default sampler used by :meth:`sample`.
        nonfinite_loss: ``'raise'`` stops on a NaN / inf loss or gradient norm,
            ``'skip'`` skips the update and logs it.
        data_preprocessor: config of the data preprocessor.
        context_frames: video only: inclusive (min, max) range; each training
            sample gets its first k frames (k uniform in the range) as given
            context that is neither masked, injected nor scored. None: no
            context. Batches may instead carry their own ``context_mask``
            (B, *grid) bool, True = given.
        compile: ``torch.compile`` the transformer (training, evaluation and
            sampling): False (default), True, or a dict of ``torch.compile``
            kwargs, e.g. ``dict(mode='max-autotune-no-cudagraphs')``. Weights
            and checkpoints are unchanged.
        max_nonfinite_skips: with ``nonfinite_loss='skip'``, the run stops (listing
            the skipped steps) once more than this many steps in a row were skipped.
        edit_cfg: how MMagic's inpainting batches are answered (``sampler``,
            ``seam``, ``seed``, ``label``; :mod:`bigfix_mm.models.editors.bigfix.inpainting`).
    """
    # untyped dict arguments -> what receives their keys (config key checks)
    DICT_ARGUMENTS = dict(injection=TokenInjector)

    def __init__(self,
                 transformer: Union[dict, torch.nn.Module],
                 tokenizer: Optional[dict] = None,
                 injection: Optional[dict] = None,
                 label_drop_prob: float = 0.1,
                 sampler: Optional[dict] = None,
                 nonfinite_loss: str = 'raise',
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None,
                 context_frames: Optional[Sequence[int]] = None,
                 compile: Union[bool, dict] = False,
                 max_nonfinite_skips: int = 10,
                 edit_cfg: Optional[dict] = None):
        super().__init__(data_preprocessor=data_preprocessor or dict(type='TokenDataPreprocessor'),
                         init_cfg=init_cfg)
        self.tokenizer = MODELS.build(tokenizer) if tokenizer is not None else None
        if self.tokenizer is not None:
            self.tokenizer.requires_grad_(False)
        if isinstance(transformer, dict) and transformer.get('codebook_size') is None:
            if self.tokenizer is None:
                raise ValueError('model.transformer.codebook_size is not set and there is no '
                                 'model.tokenizer to read it from: set one of them.')
            transformer = dict(transformer, codebook_size=self.tokenizer.codebook_size)
        self.transformer = (transformer if isinstance(transformer, torch.nn.Module) else
                            MODELS.build(transformer))
        self.codebook_size = self.transformer.codebook_size
        self.mask_id = self.transformer.mask_id
        self.num_classes = self.transformer.num_classes
        self.grid = self.transformer.grid
        if self.tokenizer is not None:
            if self.tokenizer.codebook_size != self.codebook_size:
                raise ValueError(
                    f'model.tokenizer.codebook_size={self.tokenizer.codebook_size} differs from '
                    f'model.transformer.codebook_size={self.codebook_size}: set '
                    'transformer.codebook_size to the tokenizer\'s codebook size.')
        self.injector = TokenInjector(self.codebook_size, **(injection or {}))
        if not 0.0 <= label_drop_prob < 1.0:
            raise ValueError(f'label_drop_prob={label_drop_prob} must be in [0, 1)')
        self.label_drop_prob = label_drop_prob
        if nonfinite_loss not in ('raise', 'skip'):
            raise ValueError(f"nonfinite_loss={nonfinite_loss!r} must be 'raise' or 'skip'")
        self.nonfinite_loss = nonfinite_loss
        if not isinstance(max_nonfinite_skips, int) or max_nonfinite_skips < 0:
            raise ValueError(f'max_nonfinite_skips={max_nonfinite_skips!r} must be an int >= 0')
        self.max_nonfinite_skips = max_nonfinite_skips
        self.sampler_cfg = dict(sampler or DEFAULT_SAMPLER)
        self._sampler = None
        self.context_frames = None if context_frames is None else check_frame_range(
            context_frames, self.grid[0], 'model.context_frames')
        if not isinstance(compile, (bool, dict)):
            raise TypeError(f'model.compile={compile!r} must be a bool or a dict of '
                            'torch.compile kwargs, e.g. compile=dict(mode="max-autotune")')
        self.compile_cfg = (dict() if compile is True else compile) or None
        self.edit_cfg = check_edit_cfg(edit_cfg or {})

    @property
    def net(self) -> torch.nn.Module:
        """The transformer to call: ``self.transformer``, ``torch.compile``-d when
        ``compile`` is set (attributes such as ``grid`` pass through).

        The compiled wrapper is kept outside the module tree, so state dicts,
        checkpoints and deep copies (EMA) are those of the eager model; a copy
        compiles its own wrapper around its own weights on first use.
        """
        if self.compile_cfg is None:
            return self.transformer
        cached = _COMPILED.get(self)
        if cached is None or cached[0] is not self.transformer:
            cached = (self.transformer, torch.compile(self.transformer, **self.compile_cfg))
            _COMPILED[self] = cached
        return cached[1]

    # ------------------------------------------------------------------ training
    def forward(self, inputs: dict, data_samples=None, mode: str = 'tensor'):
        """``loss``: :meth:`loss`; ``predict``: :meth:`predict`; ``tensor``: the
        (B, L, K + 1) logits of the batch's ``input_ids`` (else its clean ``tokens``)
        as given: nothing is masked nor injected here. A generation request
        (``num_batches``, as MMagic's ``ConditionalInferencer`` sends with the
        default mode) is answered like MMagic's GANs answer it, in any mode but
        ``loss``."""
        if mode == 'loss':
            return self.loss(inputs)
        if mode == 'predict' or is_generation_request(inputs):
            return self.predict(inputs, data_samples)
        if mode != 'tensor':
            raise ValueError(f"mode={mode!r} must be 'loss', 'predict' or 'tensor'")
        ids = inputs['input_ids'] if 'input_ids' in inputs else inputs['tokens']
        return self.net(ids.reshape(ids.shape[0], -1), inputs['labels'])

    def context_mask_of(self, inputs: dict,
                        generator: Optional[torch.Generator] = None) -> Optional[torch.Tensor]:
        """(B, N) bool, True at given positions: the batch's ``context_mask``, else in
        training with ``context_frames`` the first k frames (k drawn per sample), else None."""
        bsz = inputs['labels'].shape[0]
        if inputs.get('context_mask') is not None:
            return inputs['context_mask'].reshape(bsz, -1).bool()
        if self.context_frames is None or not self.training:
            return None
        device = inputs['labels'].device
        k = sample_context_frames(bsz, self.context_frames, generator, device)  # (B,)
        return frame_context_mask(self.grid, k, device)  # (B, N)

    def corrupt(self, inputs: dict, generator: Optional[torch.Generator] = None,
                context_mask: Optional[torch.Tensor] = None) -> CorruptedTokens:
        """Return the corrupted batch: as given by the pipeline, else made here (batched).

        ``context_mask`` (B, N) bool given positions are never masked nor injected;
        default :meth:`context_mask_of`.
        """
        if 'input_ids' in inputs:
            given = inputs.get('context_mask')
            if self.training and self.context_frames is not None and given is None:
                raise ValueError(
                    'model.context_frames is set but the batch was corrupted in the data pipeline '
                    '(RandomTokenInjection) without `context_mask`: remove RandomTokenInjection '
                    'from the train pipeline so that BIGFix draws context frames and injects on '
                    'the device.')
            bsz = inputs['input_ids'].shape[0]
            flat = lambda key: inputs[key].reshape(bsz, -1)  # noqa: E731
            return CorruptedTokens(flat('input_ids'), flat('masked'), flat('injected'),
                                   flat('target' if 'target' in inputs else 'tokens'))
        if 'tokens' in inputs:
            tokens = inputs['tokens']
        elif 'img' in inputs and self.tokenizer is not None:
            tokens = self.tokenizer.encode(inputs['img'].float() / 255.0)
        else:
            raise KeyError('a batch needs `input_ids` (injection transform), `tokens`, or `img` '
                           'with a model tokenizer; got keys ' + str(sorted(inputs)))
        if context_mask is None:
            context_mask = self.context_mask_of(inputs, generator)
        return self.injector(tokens.reshape(tokens.shape[0], -1), grid=self.grid,
                             generator=generator, context_mask=context_mask, validate=False)

    def loss(self, inputs: dict) -> Dict[str, torch.Tensor]:
        """The head's loss against the clean tokens at every position (cross-entropy
        over K + 1 for the softmax head, masked-bit BCE for the bit head).

        Returns ``loss`` plus detached accuracies on masked, injected (the share of
        injected tokens the model restores) and clean visible positions. Given
        context positions (video) are excluded from the loss and the accuracies.
        """
        context_mask = self.context_mask_of(inputs)
        batch = self.corrupt(inputs, context_mask=context_mask)
        labels = inputs['labels']
        drop = torch.rand(labels.shape[0], device=labels.device) < self.label_drop_prob
        head = self.transformer.head
        out = self.net(batch.input_ids, labels, drop)  # softmax head: (B, L, K + 1) logits
        ce = head.loss(out, batch.target)  # (B, L): CE over K + 1, or masked-bit BCE
        stats = token_statistics(head.greedy(out.detach()), batch, context_mask)
        if context_mask is None:
            out = dict(loss=ce.mean())
        else:
            free = (~context_mask).float()
            out = dict(loss=(ce * free).sum() / free.sum().clamp(min=1.0))
        out.update({k: v for k, v in stats.items() if k.endswith('_acc')})
        return out

    def train_step(self, data: Union[dict, tuple, list],
                   optim_wrapper: OptimWrapper) -> Dict[str, torch.Tensor]:
        """Standard step; a non-finite loss or gradient norm raises or skips
        (``nonfinite_loss``) on all ranks."""
        with optim_wrapper.optim_context(self):
            data = self.data_preprocessor(data, True)
            losses = self._run_forward(data, mode='loss')
        return guarded_update(self, losses, optim_wrapper)

    def parse_losses(self, losses: Dict[str, torch.Tensor]):
        """BaseModel's, plus a collective non-finite check for wrappers that call it directly."""
        return check_parsed_loss(self, *super().parse_losses(losses))

    # ---------------------------------------------------------------- evaluation
    def predict(self, inputs: dict, data_samples=None) -> list:
        """One ``DataSample`` per sample, for either kind of evaluation.

        A generation request (MMagic's generative loops) gets ``fake_img`` and
        ``gt_label`` (:meth:`generate_datasamples`); a token batch is corrupted and
        scored teacher-forced: each sample carries ``ce_sum``, ``num_tokens`` and
        the correct / count pairs of ``masked``, ``injected`` and ``clean``
        positions (:class:`TokenPredictionMetric`). Given context positions (the
        batch's ``context_mask``) are left out of the loss and the accuracies, as
        in training. A frame-prediction model (``context_frames`` set) needs them:
        validation without given frames would score a task it is not trained for.
        """
        from mmagic.structures import DataSample
        if is_generation_request(inputs):
            return self.generate_datasamples(inputs)
        if is_inpainting_request(inputs, data_samples):  # MMagic's inpainting contract
            return inpainting_datasamples(self, inputs, data_samples)
        if self.context_frames is not None and inputs.get('context_mask') is None:
            raise ValueError(
                f'model.context_frames={self.context_frames} but the validation batch gives no '
                'frames (`context_mask`): add dict(type=\'ContextFrames\', '
                'frame_range=context_frames, seed=...) before RandomTokenInjection in the '
                'val / test pipeline.')
        batch = self.corrupt(inputs)
        head = self.transformer.head
        out = self.net(batch.input_ids, inputs['labels'])
        ce = head.nll(out, batch.target)  # (B, L) exact negative log-likelihood
        pred = head.greedy(out)
        correct = pred == batch.target
        scored = torch.ones_like(batch.masked)
        if inputs.get('context_mask') is not None:  # given context frames are not scored
            scored = ~inputs['context_mask'].reshape_as(batch.masked).bool()
        visible_clean = ~batch.masked & ~batch.injected & scored
        out = []
        for i in range(batch.target.shape[0]):
            out.append(DataSample(ce_sum=(ce[i] * scored[i]).sum(), num_tokens=scored[i].sum(),
                            masked_correct=(correct[i] & batch.masked[i]).sum(),
                            masked_count=batch.masked[i].sum(),
                            injected_correct=(correct[i] & batch.injected[i]).sum(),
                            injected_count=batch.injected[i].sum(),
                            clean_correct=(correct[i] & visible_clean[i]).sum(),
                            clean_count=visible_clean[i].sum()))
        return out

    def val_step(self, data: Union[dict, tuple, list]) -> list:
        data = self.data_preprocessor(data, False)
        return self.predict(data['inputs'], data.get('data_samples'))

    def test_step(self, data: Union[dict, tuple, list]) -> list:
        return self.val_step(data)

    # ------------------------------------------------------------------ sampling
    @property
    def sampler(self):
        if self._sampler is None:
            self._sampler = MODELS.build(self.sampler_cfg)
        return self._sampler

    @torch.no_grad()
    def sample(self,
               labels: torch.Tensor,
               sampler: Optional[Union[dict, object]] = None,
               generator: Optional[torch.Generator] = None,
               **kwargs) -> torch.Tensor:
        """Generate token grids for class ``labels``.

        Args:
            labels: (B,) int64 class ids (id ``num_classes`` = unconditional).
            sampler: a sampler object or config; default ``self.sampler``.
            generator: RNG on the model's device; same seed, same tokens.
            **kwargs: overrides forwarded to the sampler (steps, cfg_scale, ...,
                and for video ``context`` (B, T, H, W) ids with ``context_frames``
                k or ``context_mask``: the given tokens come back unchanged).

        Returns:
            (B, T, H, W) int64 token ids in [0, K).
        """
        if isinstance(sampler, dict):
            sampler = MODELS.build(sampler)
        sampler = sampler or self.sampler
        was_training = self.training
        self.eval()
        try:
            out = sampler(self.net, labels.to(self.device), generator=generator, **kwargs)
        finally:
            self.train(was_training)
        return out

    @property
    def device(self) -> torch.device:
        return next(self.transformer.parameters()).device

    @torch.no_grad()
    def decode(self, tokens: torch.Tensor) -> torch.Tensor:
        """(B, T, H, W) or (B, H, W) ids -> (B, 3, H', W') float RGB in [0, 1] (T=1);
        with a video tokenizer (B, T, h, w) -> (B, T', 3, H', W')."""
        if self.tokenizer is None:
            raise RuntimeError('model.tokenizer is None: set a tokenizer in the config to decode '
                               'tokens into images.')
        if getattr(self.tokenizer, 'is_video', False):
            return self.tokenizer.decode(tokens.reshape(tokens.shape[0], *self.grid))
        if tokens.dim() == 4:
            if tokens.shape[1] != 1:
                raise ValueError('decode() got a token volume with T > 1 but model.tokenizer is an '
                                 "image tokenizer: wrap it, tokenizer=dict(type='PerFrameTokenizer', "
                                 'tokenizer=...), to decode videos.')
            tokens = tokens[:, 0]
        return self.tokenizer.decode(tokens)

    def generate_datasamples(self, inputs: dict) -> list:
        """Answer MMagic's generation request with ``DataSample(fake_img=...)``.

        ``fake_img`` is a float (3, H, W) BGR tensor in [0, 255] holding whole
        8-bit levels (rounded like the real images, so MMagic's uint8 casts do
        not truncate), the contract of MMagic's generative metrics; ``gt_label``
        is the class it was conditioned on.

        ``sample_kwargs`` (the metric's, shared by its sampler group) may hold
        ``seed`` (default 0), ``labels``: ``'uniform'`` (default: i.i.d. uniform
        classes) or ``'balanced'`` (classes in turn, so every class gets the same
        share when the number of samples is a multiple of the class count), and
        sampler overrides for :meth:`sample` (``sampler``, ``steps``,
        ``cfg_scale``). One generator, seeded at the first request after the
        model was last in training mode (or after :meth:`reset_generation`),
        serves the whole evaluation: evaluations are reproducible. A request's own
        ``labels`` (one class, or ``num_batches`` of them; MMagic's
        ``ConditionalInferencer`` sends its ``label``) take precedence.
        """
        from mmagic.structures import DataSample
        num = int(inputs['num_batches'])
        sample_kwargs = dict(inputs.get('sample_kwargs') or {})
        gen = self._eval_generator(sample_kwargs.pop('seed', 0))
        label_mode = sample_kwargs.pop('labels', 'uniform')
        if inputs.get('labels') is not None:  # MMagic's ConditionalInferencer(label=...)
            labels = requested_labels(inputs['labels'], num, self.num_classes).to(self.device)
        elif label_mode == 'uniform':
            labels = torch.randint(0, self.num_classes, (num, ), generator=gen, device=self.device)
        elif label_mode == 'balanced':
            start = self._eval_label_offset
            labels = balanced_labels(num, self.num_classes, start, self.device)
            self._eval_label_offset = start + num
        else:
            raise ValueError(f"sample_kwargs['labels']={label_mode!r} must be 'uniform' or "
                             "'balanced'")
        tokens = self.sample(labels, generator=gen, **sample_kwargs)
        images = (self.decode(tokens) * 255.0).round_().clamp_(0, 255)  # (B, 3, H, W) RGB
        if images.dim() != 4:
            raise ValueError("MMagic's generative metrics take images, this model makes videos "
                             f'{tuple(images.shape)}: evaluate with tools/eval_video.py.')
        images = images.flip(1)  # RGB -> BGR
        samples = []
        for img, label in zip(images, labels):
            ds = DataSample(fake_img=img.cpu())
            ds.set_gt_label(label.cpu())
            ds.sample_model = 'orig'
            samples.append(ds)
        return samples

    def _eval_generator(self, seed: int) -> torch.Generator:
        if getattr(self, '_eval_gen_seed', None) != seed:
            self._eval_gen = torch.Generator(device=self.device).manual_seed(int(seed))
            self._eval_gen_seed = seed
            self._eval_label_offset = 0
        return self._eval_gen

    def reset_generation(self) -> None:
        """Restart the evaluation sample stream: the next generation request
        draws the same labels and images as the first one did."""
        self._eval_gen_seed = None

    def train(self, mode: bool = True) -> 'BIGFix':
        """As ``nn.Module.train``; entering training also restarts the evaluation
        sample stream, so every validation during training uses the same seeds."""
        if mode:
            self.reset_generation()
        return super().train(mode)


# BIGFix -> (transformer, compiled transformer); weak, so it never keeps a model alive
_COMPILED: 'weakref.WeakKeyDictionary' = weakref.WeakKeyDictionary()


def is_generation_request(inputs: dict) -> bool:
    """MMagic's generative loops send ``dict(num_batches=..., sample_model=...)``."""
    return isinstance(inputs, dict) and 'num_batches' in inputs


def requested_labels(value, num: int, num_classes: int) -> torch.Tensor:
    """(num,) int64 classes from a request's ``labels``: one class for every sample or
    ``num`` classes; each in [0, num_classes] (num_classes = unconditional)."""
    from bigfix_mm.errors import InputValueError
    labels = torch.as_tensor(value, dtype=torch.long).reshape(-1).cpu()
    if labels.numel() == 1:
        labels = labels.expand(num)
    if labels.numel() != num:
        raise InputValueError(f'labels={labels.tolist()} gives {labels.numel()} classes for '
                              f'{num} samples: give one class or num_batches={num} of them.')
    if bool(((labels < 0) | (labels > num_classes)).any()):
        raise InputValueError(f'labels={labels.tolist()} out of range: the model has '
                              f'{num_classes} classes (0..{num_classes - 1}; {num_classes} = '
                              'no class).')
    return labels.clone()


def token_statistics(pred: torch.Tensor, batch: CorruptedTokens,
                     context_mask: Optional[torch.Tensor] = None) -> Dict[str, torch.Tensor]:
    """Accuracies of the head's greedy predictions ``pred`` (B, L) on masked /
    injected / clean positions (the given positions of ``context_mask`` (B, L) bool
    are not counted as clean)."""
    correct = pred == batch.target
    clean = ~batch.masked & ~batch.injected
    if context_mask is not None:
        clean = clean & ~context_mask

    def acc(where: torch.Tensor) -> torch.Tensor:
        return (correct & where).sum().float() / where.sum().clamp(min=1)

    return dict(masked_acc=acc(batch.masked), injected_acc=acc(batch.injected), clean_acc=acc(clean),
                injected_frac=batch.injected.float().mean())

"""BIGFix: a MaskGIT-style generator trained to fix wrong tokens."""
from typing import Dict, List, Optional, Sequence, Union

import torch
import torch.nn.functional as F
from mmengine.model import BaseModel
from mmengine.optim import OptimWrapper

from bigfix_mm.registry import MODELS
from .injection import CorruptedTokens, TokenInjector


@MODELS.register_module()
class BIGFix(BaseModel):
    """The token-fixing generator.

    Args:
        transformer: config of a :class:`BidirectionalTransformer`.
        tokenizer: config of a frozen tokenizer, or None when the data are tokens
            (then images cannot be decoded by :meth:`generate_images`).
        injection: kwargs of :class:`TokenInjector` (without ``codebook_size``),
            used when a batch carries clean ``tokens`` or ``img`` only; batches
            corrupted by the ``RandomTokenInjection`` transform are used as given.
        label_drop_prob: probability of training a sample unconditionally (CFG).
        sampler: config of the default sampler used by :meth:`sample`.
        nonfinite_loss: ``'raise'`` stops on a NaN / inf loss, ``'skip'`` skips
            the update and logs it.
        data_preprocessor: config of the data preprocessor.
    """

    def __init__(self,
                 transformer: dict,
                 tokenizer: Optional[dict] = None,
                 injection: Optional[dict] = None,
                 label_drop_prob: float = 0.1,
                 sampler: Optional[dict] = None,
                 nonfinite_loss: str = 'raise',
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None):
        super().__init__(data_preprocessor=data_preprocessor or dict(type='TokenDataPreprocessor'),
                         init_cfg=init_cfg)
        self.transformer = MODELS.build(transformer)
        self.codebook_size = self.transformer.codebook_size
        self.mask_id = self.transformer.mask_id
        self.num_classes = self.transformer.num_classes
        self.grid = self.transformer.grid
        self.tokenizer = MODELS.build(tokenizer) if tokenizer is not None else None
        if self.tokenizer is not None:
            self.tokenizer.requires_grad_(False)
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
        self.sampler_cfg = sampler or dict(type='TokenFixingSampler')
        self._sampler = None

    # ------------------------------------------------------------------ training
    def forward(self, inputs: dict, data_samples=None, mode: str = 'tensor'):
        if mode == 'loss':
            return self.loss(inputs)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        corrupted = self.corrupt(inputs)
        return self.transformer(corrupted.input_ids, inputs['labels'])

    def corrupt(self, inputs: dict, generator: Optional[torch.Generator] = None) -> CorruptedTokens:
        """Return the corrupted batch: as given by the pipeline, else made here (batched)."""
        if 'input_ids' in inputs:
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
        keep = inputs.get('keep')
        return self.injector(tokens.reshape(tokens.shape[0], -1), grid=self.grid,
                             generator=generator, keep=keep, validate=False)

    def loss(self, inputs: dict) -> Dict[str, torch.Tensor]:
        """Cross-entropy against the clean tokens at every position.

        Returns ``loss`` plus detached accuracies on masked, injected (the share of
        injected tokens the model restores) and clean visible positions.
        """
        batch = self.corrupt(inputs)
        labels = inputs['labels']
        drop = torch.rand(labels.shape[0], device=labels.device) < self.label_drop_prob
        logits = self.transformer(batch.input_ids, labels, drop)  # (B, L, K + 1)
        ce = F.cross_entropy(logits.float().flatten(0, 1), batch.target.flatten(),
                             reduction='none').view_as(batch.target)  # (B, L)
        stats = token_statistics(logits.detach(), batch)
        out = dict(loss=ce.mean())
        out.update({k: v for k, v in stats.items() if k.endswith('_acc')})
        return out

    def train_step(self, data: Union[dict, tuple, list],
                   optim_wrapper: OptimWrapper) -> Dict[str, torch.Tensor]:
        """Standard step plus a guard against non-finite losses."""
        with optim_wrapper.optim_context(self):
            data = self.data_preprocessor(data, True)
            losses = self._run_forward(data, mode='loss')
        parsed_loss, log_vars = self.parse_losses(losses)
        if not torch.isfinite(parsed_loss):
            if self.nonfinite_loss == 'raise':
                raise FloatingPointError(
                    f'non-finite loss {parsed_loss.item()} ({ {k: float(v) for k, v in log_vars.items()} }). '
                    'Lower the learning rate, enable grad clipping, or set '
                    "model.nonfinite_loss='skip' to skip such updates.")
            optim_wrapper.zero_grad()
            log_vars['nonfinite_skipped'] = torch.ones((), device=parsed_loss.device)
            return log_vars
        optim_wrapper.update_params(parsed_loss)
        return log_vars

    # ---------------------------------------------------------------- evaluation
    def predict(self, inputs: dict, data_samples=None) -> list:
        """Teacher-forced evaluation of a corrupted batch, or generation on request."""
        if is_generation_request(inputs):
            return self.generate_datasamples(inputs)
        batch = self.corrupt(inputs)
        logits = self.transformer(batch.input_ids, inputs['labels'])
        ce = F.cross_entropy(logits.float().flatten(0, 1), batch.target.flatten(),
                             reduction='none').view_as(batch.target)
        pred = logits[..., :self.codebook_size].argmax(-1)
        correct = pred == batch.target
        visible_clean = ~batch.masked & ~batch.injected
        out = []
        for i in range(batch.target.shape[0]):
            out.append(dict(ce_sum=ce[i].sum(), num_tokens=ce.shape[1],
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
            **kwargs: overrides forwarded to the sampler (steps, cfg_scale, ...).

        Returns:
            (B, T, H, W) int64 token ids in [0, K).
        """
        if isinstance(sampler, dict):
            sampler = MODELS.build(sampler)
        sampler = sampler or self.sampler
        was_training = self.training
        self.eval()
        try:
            out = sampler(self.transformer, labels.to(self.device), generator=generator, **kwargs)
        finally:
            self.train(was_training)
        return out

    @property
    def device(self) -> torch.device:
        return next(self.transformer.parameters()).device

    @torch.no_grad()
    def decode(self, tokens: torch.Tensor) -> torch.Tensor:
        """(B, T, H, W) or (B, H, W) ids -> (B, 3, H', W') float RGB in [0, 1] (T=1)."""
        if self.tokenizer is None:
            raise RuntimeError('model.tokenizer is None: set a tokenizer in the config to decode '
                               'tokens into images.')
        if tokens.dim() == 4:
            if tokens.shape[1] != 1:
                raise ValueError('decode() takes image token grids; use the video API for T > 1')
            tokens = tokens[:, 0]
        return self.tokenizer.decode(tokens)

    def generate_datasamples(self, inputs: dict) -> list:
        """Answer MMagic's generation request with ``DataSample(fake_img=...)``.

        ``fake_img`` is a float (3, H, W) BGR tensor in [0, 255], the contract of
        MMagic's generative metrics. Labels are drawn uniformly from the classes
        with a generator seeded by ``sample_kwargs['seed']`` (default 0) advanced
        per call, so an evaluation run is reproducible.
        """
        from mmagic.structures import DataSample
        num = int(inputs['num_batches'])
        sample_kwargs = dict(inputs.get('sample_kwargs') or {})
        gen = self._eval_generator(sample_kwargs.pop('seed', 0))
        labels = torch.randint(0, self.num_classes, (num, ), generator=gen, device=self.device)
        tokens = self.sample(labels, generator=gen, **sample_kwargs)
        images = self.decode(tokens) * 255.0  # (B, 3, H, W) RGB
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
        return self._eval_gen


def is_generation_request(inputs: dict) -> bool:
    """MMagic's generative loops send ``dict(num_batches=..., sample_model=...)``."""
    return isinstance(inputs, dict) and 'num_batches' in inputs


def token_statistics(logits: torch.Tensor, batch: CorruptedTokens) -> Dict[str, torch.Tensor]:
    """Accuracies of argmax predictions on masked / injected / clean positions."""
    k = logits.shape[-1] - 1
    correct = logits[..., :k].argmax(-1) == batch.target
    clean = ~batch.masked & ~batch.injected

    def acc(where: torch.Tensor) -> torch.Tensor:
        return (correct & where).sum().float() / where.sum().clamp(min=1)

    return dict(masked_acc=acc(batch.masked), fix_acc=acc(batch.injected), clean_acc=acc(clean),
                injected_frac=batch.injected.float().mean())

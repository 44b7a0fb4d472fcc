"""Training a VQGAN tokenizer with MMEngine: reconstruction, codebook and optional GAN losses."""
from typing import Dict, List, Optional, Union

import torch
import torch.nn.functional as F
from mmengine.logging import MessageHub
from mmengine.model import BaseModel
from mmengine.optim import OptimWrapper, OptimWrapperDict

from bigfix_mm.registry import MODELS
from bigfix_mm.models.editors.vqgan.vq_autoencoder import VQAutoencoder, resolve_arch
from bigfix_mm.models.editors.vqgan.perceptual import LPIPSLoss


def images_to_unit(img: torch.Tensor) -> torch.Tensor:
    """(B, 3, H, W) uint8 [0, 255] (or float [0, 255]) -> float [-1, 1]."""
    return img.float() / 127.5 - 1.0


def psnr_uint8(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Per-image PSNR (dB) of (B, 3, H, W) images in [-1, 1], both rounded to 8 bits first."""
    to_u8 = lambda t: ((t.float().clamp(-1, 1) + 1.0) * 127.5).round()  # noqa: E731
    mse = (to_u8(pred) - to_u8(target)).pow(2).flatten(1).mean(1).clamp_min(1e-8)
    return 10.0 * torch.log10(255.0**2 / mse)  # (B,)


def _build_discriminator(cfg: dict) -> torch.nn.Module:
    """Build and initialise a discriminator now.

    MMagic 1.2's ``generation_init_weights`` (used by ``PatchDiscriminator``)
    fails with ``UnboundLocalError`` when run from a parent's ``init_weights``
    (every module then carries ``_params_init_info``); initialised here, the
    module is marked done and the Runner's later ``init_weights`` skips it.
    """
    disc = MODELS.build(cfg)
    if hasattr(disc, 'init_weights') and not getattr(disc, 'is_init', False):
        disc.init_weights()
    return disc


@MODELS.register_module()
class VQGANTrainer(BaseModel):
    """Trains a :class:`VQAutoencoder`; its checkpoints load into ``VQGANTokenizer``.

    Losses: L1 or L2 reconstruction, codebook + commitment, optionally LPIPS
    (from a local weights file) and a hinge GAN loss against a discriminator
    built from the registry (e.g. MMagic's ``PatchDiscriminator``).

    Args:
        autoencoder: ``arch`` name and / or :class:`VQAutoencoder` kwargs.
        recon_loss: ``'l1'`` or ``'l2'``.
        codebook_weight: weight of the quantiser's losses (codebook + commitment,
            or commitment + entropy for ``LookupFreeQuantizer``).
        perceptual_weights: path to VGG16 / LPIPS weights; None disables LPIPS.
        perceptual_weight: weight of the LPIPS loss.
        discriminator: config of a discriminator (B, 3, H, W) -> logits map;
            None trains without a GAN loss. With it, ``optim_wrapper`` must have
            ``autoencoder`` and ``discriminator`` entries.
        adv_weight: GAN loss weight (scaled adaptively as in VQGAN when
            ``adaptive_adv_weight``).
        adv_start_iter: iteration from which the GAN losses are on.
        adaptive_adv_weight: balance the GAN gradient against the
            reconstruction gradient at the decoder's last layer.
        data_preprocessor: defaults to ``TokenDataPreprocessor`` (batches are
            ``dict(inputs=dict(img=(B, 3, H, W) uint8 RGB, labels=...))``).
    """

    def __init__(self,
                 autoencoder: dict,
                 recon_loss: str = 'l1',
                 codebook_weight: float = 1.0,
                 perceptual_weights: Optional[str] = None,
                 perceptual_weight: float = 1.0,
                 discriminator: Optional[dict] = None,
                 adv_weight: float = 0.1,
                 adv_start_iter: int = 0,
                 adaptive_adv_weight: bool = True,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None):
        super().__init__(data_preprocessor=data_preprocessor or dict(type='TokenDataPreprocessor'),
                         init_cfg=init_cfg)
        if recon_loss not in ('l1', 'l2'):
            raise ValueError(f"model.recon_loss={recon_loss!r} must be 'l1' or 'l2'")
        self.autoencoder = VQAutoencoder(**resolve_arch(**autoencoder))
        self.recon_loss = recon_loss
        self.codebook_weight = codebook_weight
        self.perceptual_weight = perceptual_weight
        self.perceptual = LPIPSLoss(perceptual_weights) if perceptual_weights else None
        self.discriminator = _build_discriminator(discriminator) if discriminator else None
        self.adv_weight = adv_weight
        self.adv_start_iter = adv_start_iter
        self.adaptive_adv_weight = adaptive_adv_weight

    # ------------------------------------------------------------------ training
    def train_step(self, data: Union[dict, tuple, list],
                   optim_wrapper: Union[OptimWrapper, OptimWrapperDict]) -> Dict[str, torch.Tensor]:
        data = self.data_preprocessor(data, True)
        x = images_to_unit(self._images(data['inputs']))
        if self.discriminator is None:
            g_wrapper, d_wrapper = optim_wrapper, None
        else:
            if not isinstance(optim_wrapper, OptimWrapperDict) or set(optim_wrapper.keys()) != {
                    'autoencoder', 'discriminator'}:
                raise TypeError("with model.discriminator set, optim_wrapper must be a dict with "
                                "'autoencoder' and 'discriminator' entries "
                                "(constructor='MultiOptimWrapperConstructor').")
            g_wrapper, d_wrapper = optim_wrapper['autoencoder'], optim_wrapper['discriminator']
        adv_on = self.discriminator is not None and self._iter() >= self.adv_start_iter

        with g_wrapper.optim_context(self):
            if self.discriminator is not None:
                self.discriminator.requires_grad_(False)
            recon, ids, losses = self._generator_losses(x, adv_on)
        parsed, log_vars = self.parse_losses(losses)
        if not torch.isfinite(parsed):
            raise FloatingPointError(f'non-finite VQGAN loss {float(parsed)}: lower the learning '
                                     'rate or enable gradient clipping (optim_wrapper.clip_grad).')
        g_wrapper.update_params(parsed)

        if adv_on:
            self.discriminator.requires_grad_(True)
            with d_wrapper.optim_context(self.discriminator):
                d_loss = self._discriminator_loss(x, recon.detach())
            d_wrapper.update_params(d_loss)
            log_vars['loss_disc'] = d_loss.detach()
        with torch.no_grad():
            log_vars['psnr'] = psnr_uint8(recon.detach(), x).mean()
            log_vars['codebook_usage'] = torch.tensor(self.autoencoder.quantize.usage())
        return log_vars

    def _generator_losses(self, x: torch.Tensor, adv_on: bool):
        recon, ids, q_losses = self.autoencoder(x)  # (B, 3, H, W), (B, h, w)
        rec = (recon - x).abs().mean() if self.recon_loss == 'l1' else F.mse_loss(recon, x)
        losses = dict(loss_rec=rec)  # + the quantiser's (VQ: codebook, commit; LFQ: commit, entropy)
        losses.update({f'loss_{name}': self.codebook_weight * q_losses[name]
                       for name in sorted(q_losses)})
        nll = rec
        if self.perceptual is not None:
            losses['loss_perceptual'] = self.perceptual_weight * self.perceptual(recon, x)
            nll = nll + losses['loss_perceptual']
        if adv_on:
            g_adv = -self.discriminator(recon).mean()
            weight = self.adv_weight
            if self.adaptive_adv_weight:
                weight = weight * self._adaptive_weight(nll, g_adv)
            losses['loss_gen_adv'] = weight * g_adv
        return recon, ids, losses

    def _adaptive_weight(self, nll: torch.Tensor, g_adv: torch.Tensor) -> torch.Tensor:
        """||grad nll|| / ||grad g_adv|| at the decoder's last layer (VQGAN), clamped."""
        last = self.autoencoder.decoder.last_layer
        g_nll = torch.autograd.grad(nll, last, retain_graph=True)[0]
        g_gan = torch.autograd.grad(g_adv, last, retain_graph=True)[0]
        return (g_nll.norm() / (g_gan.norm() + 1e-4)).clamp(0.0, 1e4).detach()

    def _discriminator_loss(self, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        """Hinge loss: 0.5 * (relu(1 - D(real)) + relu(1 + D(fake)))."""
        return 0.5 * (F.relu(1.0 - self.discriminator(real)).mean() +
                      F.relu(1.0 + self.discriminator(fake)).mean())

    @staticmethod
    def _iter() -> int:
        hub = MessageHub.get_current_instance()
        return int(hub.get_info('iter', 0) or 0)

    @staticmethod
    def _images(inputs: dict) -> torch.Tensor:
        if not isinstance(inputs, dict) or 'img' not in inputs:
            raise KeyError('VQGANTrainer needs batches with inputs["img"] (B, 3, H, W) uint8 RGB: '
                           "add dict(type='PackTokenInputs', keys=('img',)) to the pipeline.")
        return inputs['img']

    # ---------------------------------------------------------------- evaluation
    def forward(self, inputs: dict, data_samples=None, mode: str = 'tensor'):
        """``tensor``: reconstructions in [-1, 1]; ``predict``: per-image PSNR and ids."""
        x = images_to_unit(self._images(inputs))
        if mode == 'loss':
            return self._generator_losses(x, adv_on=False)[2]
        recon, ids, _ = self.autoencoder(x)
        if mode == 'tensor':
            return recon
        psnr = psnr_uint8(recon, x)
        return [dict(psnr=psnr[i], ids=ids[i], codebook_size=self.autoencoder.codebook_size)
                for i in range(x.shape[0])]

    def val_step(self, data: Union[dict, tuple, list]) -> List[dict]:
        data = self.data_preprocessor(data, False)
        with torch.no_grad():
            return self(data['inputs'], mode='predict')

    test_step = val_step

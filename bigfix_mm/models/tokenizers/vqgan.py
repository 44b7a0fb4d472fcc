"""VQGAN tokenizers: LlamaGen VQ-16, taming VQGAN f16 and bigfix_mm's own trained ones."""
from typing import Optional

import torch

from bigfix_mm.registry import MODELS, signature_defaults
from bigfix_mm.models.tokenizers.base import BaseTokenizer
from bigfix_mm.models.tokenizers.convert import check_state_dict, load_native
from bigfix_mm.models.editors.vqgan.vq_autoencoder import VQAutoencoder, resolve_arch


@MODELS.register_module()
class VQGANTokenizer(BaseTokenizer):
    """A frozen VQGAN behind the tokenizer interface.

    Examples::

        dict(type='VQGANTokenizer', arch='llamagen-vq16', checkpoint='vq_ds16_c2i.pt')
        dict(type='VQGANTokenizer', arch='taming-f16-1024', checkpoint='last.ckpt')  # after
            # tools/model_converters/convert_taming.py, or directly if the file loads with weights_only
        dict(type='VQGANTokenizer', checkpoint='work_dirs/vqgan_cifar10/iter_2000.pth',
             **cifar_arch)  # trained with configs/vqgan/vqgan_cifar10.py

    Args:
        arch: a named architecture of :data:`VQ_ARCHS`, or None to give every
            architecture kwarg of :class:`VQAutoencoder` explicitly.
        checkpoint: weights file (LlamaGen, taming, converted safetensors or a
            VQGANTrainer checkpoint); loaded with ``weights_only`` / safetensors
            and checked strictly against the architecture. None keeps the random
            initialisation (tests).
        use_ema: prefer EMA weights when the file has them.
        **arch_kwargs: overrides of the named architecture.

    ``encode``: (B, 3, H, W) float [0, 1] -> (B, H/f, W/f) int64; ``decode`` back.
    """
    KWARGS_ARGUMENTS = VQAutoencoder  # what receives **arch_kwargs (config key checks)

    @classmethod
    def config_facts(cls, cfg: dict):
        extra = {k: v for k, v in cfg.items() if k not in ('type', 'arch', 'checkpoint', 'use_ema')}
        arch = {**signature_defaults(VQAutoencoder), **resolve_arch(cfg.get('arch'), **extra)}
        quantizer = arch.get('quantizer') or {}
        k = 2**int(quantizer['bits']) if 'bits' in quantizer else int(arch['codebook_size'])
        return (k, 2**(len(arch['ch_mult']) - 1),
                f"VQGANTokenizer(arch={cfg.get('arch')!r}) has {k} codes")

    def __init__(self, arch: Optional[str] = None, checkpoint: Optional[str] = None,
                 use_ema: bool = True, **arch_kwargs):
        super().__init__()
        self.arch_cfg = resolve_arch(arch, **arch_kwargs)
        self.autoencoder = VQAutoencoder(**self.arch_cfg)
        self.codebook_size = self.autoencoder.codebook_size
        self.downsample = self.autoencoder.downsample
        self.checkpoint = checkpoint
        if checkpoint is not None:
            self.load_weights(checkpoint, use_ema)
        self.requires_grad_(False)
        self.eval()

    def load_weights(self, checkpoint: str, use_ema: bool = True) -> None:
        """Load a checkpoint file strictly; a mismatch names the file and the keys."""
        state = load_native(checkpoint, use_ema=use_ema)
        check_state_dict(self.autoencoder, state, source=f'checkpoint {checkpoint}')
        self.autoencoder.load_state_dict(state, strict=True)

    def _encode(self, images: torch.Tensor) -> torch.Tensor:
        x = images.to(self.autoencoder.quant_conv.weight) * 2.0 - 1.0  # [0, 1] -> [-1, 1]
        _, ids, _ = self.autoencoder.encode(x)
        return ids  # (B, h, w)

    def _decode(self, ids: torch.Tensor) -> torch.Tensor:
        ids = ids.to(self.autoencoder.quant_conv.weight.device)
        return (self.autoencoder.decode_ids(ids).float() + 1.0) / 2.0  # (B, 3, H, W)

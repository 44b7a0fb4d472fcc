"""The VQ / LFQ autoencoder, its quantizers and its trainer (frozen, it serves as the
tokenizer :class:`~bigfix_mm.models.tokenizers.VQGANTokenizer`)."""
from bigfix_mm.models.editors.vqgan.lfq import LookupFreeQuantizer
from bigfix_mm.models.editors.vqgan.perceptual import LPIPSLoss
from bigfix_mm.models.editors.vqgan.quantizer import VectorQuantizer
from bigfix_mm.models.editors.vqgan.trainer import VQGANTrainer
from bigfix_mm.models.editors.vqgan.vq_autoencoder import VQ_ARCHS, VQAutoencoder, resolve_arch

__all__ = ['LPIPSLoss', 'LookupFreeQuantizer', 'VectorQuantizer', 'VQGANTrainer', 'VQ_ARCHS',
           'VQAutoencoder', 'resolve_arch']

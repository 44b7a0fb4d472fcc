"""Any diffusers ``VQModel`` as a tokenizer, built through MMagic's registry."""
import torch

from bigfix_mm.registry import MODELS
from bigfix_mm.models.tokenizers.base import BaseTokenizer


@MODELS.register_module()
class DiffusersVQTokenizer(BaseTokenizer):
    """Adapter around a diffusers ``VQModel`` (MMagic registers every diffusers model).

    Example::

        dict(type='DiffusersVQTokenizer',
             vqmodel=dict(type='VQModel', from_pretrained='/path/to/vqmodel_dir'))
        # or raw diffusers kwargs: dict(type='VQModel', block_out_channels=(64, 128), ...)

    Args:
        vqmodel: config of MMagic's ``VQModel`` wrapper (``from_pretrained`` a
            local folder, ``from_config``, or the diffusers constructor kwargs).

    Images are (B, 3, H, W) in [0, 1]; diffusers works in [-1, 1].
    """

    def __init__(self, vqmodel: dict):
        super().__init__()
        if not isinstance(vqmodel, dict) or 'type' not in vqmodel:
            raise TypeError("vqmodel must be a config dict such as dict(type='VQModel', ...)")
        wrapper = MODELS.build(vqmodel)
        model = getattr(wrapper, 'model', wrapper)
        for attr in ('encode', 'decode', 'quantize'):
            if not hasattr(model, attr):
                raise TypeError(f"vqmodel type={vqmodel['type']!r} built {type(model).__name__}, "
                                f'which has no `{attr}`: use a diffusers VQModel.')
        self.vq = model
        self.codebook_size = int(model.quantize.re_embed)
        self.downsample = 2**(len(model.config.block_out_channels) - 1)
        self.code_dim = int(model.quantize.vq_embed_dim)
        self.requires_grad_(False)
        self.eval()

    def _encode(self, images: torch.Tensor) -> torch.Tensor:
        x = images.to(self.vq.quant_conv.weight) * 2.0 - 1.0
        latents = self.vq.encode(x).latents  # (B, D, h, w)
        _, _, (_, _, ids) = self.vq.quantize(latents)
        b, _, h, w = latents.shape
        return ids.reshape(b, h, w).long()

    def _decode(self, ids: torch.Tensor) -> torch.Tensor:
        b, h, w = ids.shape
        ids = ids.to(self.vq.quant_conv.weight.device)
        z = self.vq.quantize.get_codebook_entry(ids.reshape(-1), (b, h, w, self.code_dim))
        out = self.vq.decode(z, force_not_quantize=True).sample  # (B, 3, H, W) in [-1, 1]
        return (out.float() + 1.0) / 2.0

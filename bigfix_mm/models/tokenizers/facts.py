"""What a tokenizer config says about its tokens before anything is built."""
from typing import Optional, Tuple

from bigfix_mm.registry import MODELS, signature_defaults, with_class_defaults


def tokenizer_facts(tok: Optional[dict]) -> Optional[Tuple[int, int, str]]:
    """(codebook_size, downsample, description) of a tokenizer config, or None where
    only the built tokenizer knows (e.g. a diffusers VQ model)."""
    if not tok:
        return None
    kind = tok.get('type')
    if kind == 'PerFrameTokenizer':
        return tokenizer_facts(tok.get('tokenizer'))
    if kind == 'RGBQuantTokenizer':
        full = with_class_defaults(MODELS, tok)
        levels = int(full['levels'])
        return levels**3, int(full['downsample']), f'RGBQuantTokenizer(levels={levels}) has ' \
            f'{levels}**3 = {levels**3} codes'
    if kind == 'VQGANTokenizer':
        from bigfix_mm.models.editors.vqgan.vq_autoencoder import VQAutoencoder, resolve_arch
        extra = {k: v for k, v in tok.items() if k not in ('type', 'arch', 'checkpoint', 'use_ema')}
        arch = {**signature_defaults(VQAutoencoder), **resolve_arch(tok.get('arch'), **extra)}
        quantizer = arch.get('quantizer') or {}
        k = 2**int(quantizer['bits']) if 'bits' in quantizer else int(arch['codebook_size'])
        return (k, 2**(len(arch['ch_mult']) - 1),
                f"VQGANTokenizer(arch={tok.get('arch')!r}) has {k} codes")
    if 'codebook_size' in tok and 'downsample' in tok:
        return int(tok['codebook_size']), int(tok['downsample']), f'{kind} has ' \
            f"{tok['codebook_size']} codes"
    return None

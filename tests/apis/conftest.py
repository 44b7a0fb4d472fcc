"""Tiny BIGFix models with a tokenizer, for the editing tests."""
import torch

from bigfix_mm.registry import MODELS

RGB = dict(type='RGBQuantTokenizer', levels=2, downsample=4)  # 8 codes, 16x16 px -> 4x4
VQ = dict(type='VQGANTokenizer', ch=16, ch_mult=(1, 2), num_res_blocks=1, z_channels=16,
          codebook_size=32, code_dim=4, l2_norm=True, norm_groups=8)  # f2
LFQ = dict(type='VQGANTokenizer', ch=16, ch_mult=(1, 2), num_res_blocks=1, z_channels=16,
           norm_groups=8, quantizer=dict(type='LookupFreeQuantizer', bits=6))  # f2, 64 codes
LLAMAGEN = dict(type='VQGANTokenizer', arch='llamagen-vq16')  # f16, random weights
BIT_HEAD = dict(type='MaskedBitHead', bit_width=16, depth=1)


def tiny_editor(tokenizer=RGB, grid=(4, 4), head=None, seed=0, **kw):
    """An eval-mode BIGFix with random, non-degenerate weights."""
    torch.manual_seed(seed)
    transformer = dict(type='BidirectionalTransformer', size=None, width=32, depth=2, heads=2,
                       grid=grid, num_classes=3)
    if head is not None:
        transformer['head'] = head
    model = MODELS.build(dict(type='BIGFix', transformer=transformer, tokenizer=tokenizer,
                              sampler=dict(type='TokenFixingSampler', steps=4, fix='all'), **kw))
    for p in model.transformer.parameters():
        torch.nn.init.normal_(p, std=0.3)
    return model.eval()


def images_of(model, num=2, seed=0):
    """(num, 3, H, W) random images of the model's size."""
    side = model.grid[-1] * model.tokenizer.downsample
    return torch.rand(num, 3, side, side, generator=torch.Generator().manual_seed(seed))

# The authors' published class-to-image models (Halton-MaskGIT, ImageNet) in bigfix_mm,
# to load with weights converted by tools/model_converters/convert_halton_maskgit.py. A published
# config (configs/halton_maskgit/*.py) states only its size, grid and CFG weight.
#
# Tokenizer: LlamaGen VQ-16 (K=16384, 16x16 tokens at 256 px, 24x24 at 384 px), the
# user-supplied `vq_ds16_c2i.pt`. Sampler: their Halton sampler, 32 steps, every placed
# token re-sampled at each step (fix='all', what their code does), temperature 1.
model = dict(
    type='BIGFix',
    transformer=dict(type='BidirectionalTransformer', size='tiny', codebook_size=16384,
                     grid=(16, 16), num_classes=1000, num_registers=1),
    tokenizer=dict(type='VQGANTokenizer', arch='llamagen-vq16',
                   checkpoint='checkpoints/vq_ds16_c2i.pt'),
    injection=dict(injection_prob=0.2, mode='shuffle'),
    label_drop_prob=0.1,
    sampler=dict(type='TokenFixingSampler', steps=32, reveal='halton', fix='all',
                 temperature=1.0, cfg_scale=1.0),
    data_preprocessor=dict(type='TokenDataPreprocessor'),
)

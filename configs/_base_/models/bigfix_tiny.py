# BIGFix with the tiny transformer (384/6/6). Codebook, grid and classes are set by
# the dataset-specific config; they must agree with the tokenizer / token metadata.
model = dict(
    type='BIGFix',
    transformer=dict(type='BidirectionalTransformer', size='tiny', codebook_size=16384,
                     grid=(16, 16), num_classes=1000, num_registers=1),
    injection=dict(injection_prob=0.2, mode='shuffle'),
    label_drop_prob=0.1,
    sampler=dict(type='TokenFixingSampler', steps=32, reveal='halton', fix='low_confidence',
                 fix_ratio=0.1, cfg_scale=1.5),
    data_preprocessor=dict(type='TokenDataPreprocessor'),
    # torch.compile the transformer: True or dict(mode='max-autotune-no-cudagraphs');
    # worth it on GPUs (docs/performance.md), a minute of compiling on a small CPU
    compile=False,
)

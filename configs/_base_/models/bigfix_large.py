# BIGFix with the large transformer (1024/24/16). Codebook, grid and classes are set by
# the dataset-specific config; they must agree with the tokenizer / token metadata.
model = dict(
    type='BIGFix',
    transformer=dict(type='BidirectionalTransformer', size='large', codebook_size=16384,
                     grid=(16, 16), num_classes=1000, num_registers=1),
    injection=dict(injection_prob=0.2, mode='shuffle'),
    label_drop_prob=0.1,
    sampler=dict(type='TokenFixingSampler', steps=32, reveal='halton', fix='low_confidence',
                 fix_ratio=0.1, cfg_scale=1.5),
    data_preprocessor=dict(type='TokenDataPreprocessor'),
)

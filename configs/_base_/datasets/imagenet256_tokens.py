# Pre-extracted ImageNet-256 tokens (LlamaGen VQ f16, K=16384, 16x16), written by
# tools/extract_tokens.py. Injection runs in the loader (per sample, CPU).
train_pipeline = [
    dict(type='RandomTokenInjection'),  # settings: model.injection
    dict(type='PackTokenInputs'),
]
val_pipeline = [
    dict(type='RandomTokenInjection', seed=1234),  # settings: model.injection
    dict(type='PackTokenInputs'),
]
train_dataloader = dict(
    batch_size=32,  # per GPU: 8 GPUs x 32 = global batch 256
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type='TokenDataset', data_root='data/imagenet256_llamagen_f16/train',
                 pipeline=train_pipeline),
)
val_dataloader = dict(
    batch_size=64,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type='TokenDataset', data_root='data/imagenet256_llamagen_f16/val',
                 pipeline=val_pipeline),
)
val_evaluator = dict(type='TokenPredictionMetric')
test_dataloader = val_dataloader
test_evaluator = val_evaluator

# CIFAR-10 as pre-extracted VQ tokens (configs/vqgan_cifar10.py tokenizer: K=1024, 8x8 grid),
# written by tools/extract_tokens.py: train with --flip (100,000 rows), test without (10,000).
# The dataset config sets data_root (see configs/bigfix_cifar10.py).
train_pipeline = [
    dict(type='RandomTokenInjection'),  # settings: model.injection
    dict(type='PackTokenInputs'),
]
val_pipeline = [
    dict(type='RandomTokenInjection', seed=1234),  # settings: model.injection
    dict(type='PackTokenInputs'),
]
train_dataloader = dict(
    batch_size=64,
    num_workers=1,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type='TokenDataset', data_root='data/cifar10_vq_tokens/train',
                 pipeline=train_pipeline),
)
val_dataloader = dict(
    batch_size=128,
    num_workers=1,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type='TokenDataset', data_root='data/cifar10_vq_tokens/test',
                 pipeline=val_pipeline),
)
val_evaluator = dict(type='TokenPredictionMetric')
test_dataloader = val_dataloader
test_evaluator = val_evaluator

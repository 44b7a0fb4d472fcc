# CIFAR-10 as pre-extracted VQ tokens (configs/vqgan_cifar10.py tokenizer: K=1024, 8x8 grid),
# written by tools/extract_tokens.py: train with --flip (100,000 rows), test without (10,000).
# The dataset config sets data_root (see configs/bigfix_cifar10.py).
codebook_size = 1024
grid = (8, 8)
train_pipeline = [
    dict(type='RandomTokenInjection', codebook_size=codebook_size, injection_prob=0.2,
         mode='shuffle'),
    dict(type='PackTokenInputs'),
]
val_pipeline = [
    dict(type='RandomTokenInjection', codebook_size=codebook_size, injection_prob=0.2,
         mode='shuffle', seed=1234),
    dict(type='PackTokenInputs'),
]
train_dataloader = dict(
    batch_size=64,
    num_workers=1,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type='TokenDataset', data_root='data/cifar10_vq_tokens/train',
                 codebook_size=codebook_size, grid=grid, num_classes=10,
                 pipeline=train_pipeline),
)
val_dataloader = dict(
    batch_size=128,
    num_workers=1,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type='TokenDataset', data_root='data/cifar10_vq_tokens/test',
                 codebook_size=codebook_size, grid=grid, num_classes=10,
                 pipeline=val_pipeline),
)
val_evaluator = dict(type='TokenPredictionMetric')
test_dataloader = val_dataloader
test_evaluator = val_evaluator

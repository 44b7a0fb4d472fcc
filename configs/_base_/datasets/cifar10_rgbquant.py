# CIFAR-10 (official python release or the shared JPEG edition) tokenized on the fly by
# fixed RGB quantisation:
# 6 levels per channel (216 codes) after 4x4 average pooling -> 8x8 tokens.
tokenizer = dict(type='RGBQuantTokenizer', levels=6, downsample=4)
codebook_size = 216
# None: data/cifar10, then $BIGFIX_SHARED (or ../shared)/data/cifar10
# (lookup order: bigfix_mm/datasets/cifar10.py)
data_root = None

train_pipeline = [
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='TokenizeImage', tokenizer=tokenizer),
    dict(type='RandomTokenInjection', codebook_size=codebook_size, injection_prob=0.2,
         mode='shuffle'),
    dict(type='PackTokenInputs'),
]
val_pipeline = [
    dict(type='TokenizeImage', tokenizer=tokenizer),
    dict(type='RandomTokenInjection', codebook_size=codebook_size, injection_prob=0.2,
         mode='shuffle', seed=1234),
    dict(type='PackTokenInputs'),
]
train_dataloader = dict(
    batch_size=32,
    num_workers=1,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type='CIFAR10JPEG', data_root=data_root, split='train', pipeline=train_pipeline),
)
val_dataloader = dict(
    batch_size=64,
    num_workers=1,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type='CIFAR10JPEG', data_root=data_root, split='test', pipeline=val_pipeline),
)
val_evaluator = dict(type='TokenPredictionMetric')
test_dataloader = val_dataloader
test_evaluator = val_evaluator

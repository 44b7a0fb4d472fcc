# CIFAR-10 (official python release or the shared JPEG edition) tokenized on the fly by the
# model's tokenizer (e.g. fixed RGB quantisation, see configs/bigfix_cifar10_quick.py);
# injection as model.injection.
# None: data/cifar10, then $BIGFIX_SHARED (or ../shared)/data/cifar10
# (lookup order: bigfix_mm/datasets/cifar10.py)
data_root = None

train_pipeline = [
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='TokenizeImage'),  # model.tokenizer
    dict(type='RandomTokenInjection'),  # settings: model.injection
    dict(type='PackTokenInputs'),
]
val_pipeline = [
    dict(type='TokenizeImage'),  # model.tokenizer
    dict(type='RandomTokenInjection', seed=1234),  # settings: model.injection
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

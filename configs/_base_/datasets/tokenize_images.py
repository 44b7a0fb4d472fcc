# Images tokenized on the fly by the model's tokenizer (model.tokenizer), with random-token
# injection as model.injection: the pipelines and loaders of every image dataset base.
# An inheriting base names the dataset (type, split, ...), e.g. cifar10_rgbquant.py.
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
    dataset=dict(pipeline=train_pipeline),
)
val_dataloader = dict(
    batch_size=64,
    num_workers=1,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(pipeline=val_pipeline),
)
val_evaluator = dict(type='TokenPredictionMetric')
test_dataloader = val_dataloader
test_evaluator = val_evaluator

# Coloured shapes rendered on the fly (SyntheticShapes: 9 classes, shape x colour, 32x32 px;
# nothing read from disk), tokenized by the model's tokenizer like CIFAR-10 in
# cifar10_rgbquant.py, with the same pipelines; injection as model.injection.
image_size = 32

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
    dataset=dict(type='SyntheticShapes', num_samples=10000, image_size=image_size,
                 split='train', pipeline=train_pipeline),
)
val_dataloader = dict(
    batch_size=64,
    num_workers=1,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type='SyntheticShapes', num_samples=512, image_size=image_size, split='test',
                 pipeline=val_pipeline),
)
val_evaluator = dict(type='TokenPredictionMetric')
test_dataloader = val_dataloader
test_evaluator = val_evaluator

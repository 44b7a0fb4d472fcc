# The loaders of every dataset base: a shuffled infinite train loader, an ordered val / test
# loader, default_collate, the token metric, and the pipelines of pre-extracted tokens
# (random-token injection as model.injection, in the loader). A dataset base inherits this
# and names its dataset; it states pipelines, batch sizes or workers only where they differ
# (a new pipeline: set dataset.pipeline again, the lists here are bound when this is parsed).
train_pipeline = [
    dict(type='RandomTokenInjection'),  # settings: model.injection
    dict(type='PackTokenInputs'),
]
val_pipeline = [
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

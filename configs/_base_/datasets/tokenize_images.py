# Images tokenized on the fly by the model's tokenizer (model.tokenizer), with random-token
# injection as model.injection: the pipelines and loaders of every image dataset base.
# An inheriting base names the dataset (type, split, ...), e.g. cifar10_rgbquant.py.
_base_ = ['./token_loaders.py']
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
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=val_pipeline))
test_dataloader = val_dataloader

# The quick config (configs/bigfix/bigfix_cifar10_quick.py) with no data on disk: coloured shapes
# (32x32 px, 9 classes) rendered on the fly, RGB-quantised 8x8 tokens (64 codes). The test
# suite's Runner runs (train, resume, DDP, EMA, evaluation, sampling) use it shrunk
# (tests/conftest.py small_cfg).
_base_ = ['./bigfix_cifar10_quick.py']
model = dict(
    transformer=dict(num_classes=9),
    # 4 levels per channel = 64 codes, the shapes' colours are exact cell colours
    tokenizer=dict(levels=4),
)
train_dataloader = dict(dataset=dict(
    _delete_=True, type='SyntheticShapes', num_samples=10000, split='train',
    pipeline={{_base_.train_pipeline}}))
val_dataloader = dict(dataset=dict(
    _delete_=True, type='SyntheticShapes', num_samples=512, split='test',
    pipeline={{_base_.val_pipeline}}))
test_dataloader = val_dataloader

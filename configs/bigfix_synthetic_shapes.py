# BIGFix on images with no data on disk: coloured shapes (32x32 px, 9 classes) rendered on
# the fly, RGB-quantised 8x8 tokens (64 codes), the tiny model and the CIFAR-10 quick
# config's 400-iteration schedule. The test suite's Runner runs (train, resume, DDP, EMA,
# evaluation, sampling) use it shrunk (tests/conftest.py small_cfg).
_base_ = [
    './_base_/default_runtime.py',
    './_base_/models/bigfix_base.py',
    './_base_/datasets/synthetic_shapes.py',
    './_base_/schedules/adamw_warmup_cosine.py',
]
model = dict(
    transformer=dict(grid=(8, 8), num_classes=9),
    # 4 levels per channel = 64 codes, the shapes' colours are exact cell colours
    tokenizer=dict(type='RGBQuantTokenizer', levels=4, downsample=4),
    sampler=dict(steps=8, cfg_scale=1.0),
)
max_iters = 400
warmup_iters = 40
optim_wrapper = dict(optimizer=dict(lr=1e-3), accumulative_counts=1)
auto_scale_lr = dict(enable=False, base_batch_size=32)  # global batch: 1 process x 32 x 1
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-2, by_epoch=False, begin=0, end=warmup_iters),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=warmup_iters, end=max_iters,
         T_max=max_iters - warmup_iters, eta_min_ratio=0.01),
]
train_cfg = dict(max_iters=max_iters, val_interval=200)
default_hooks = dict(logger=dict(interval=20),
                     checkpoint=dict(interval=200, max_keep_ckpts=2))
custom_hooks = [
    dict(type='FixingSamplerHook', interval=200, num_samples=18, seed=0,
         sampler=dict(type='TokenFixingSampler', steps=8, fix='low_confidence', fix_ratio=0.1,
                      cfg_scale=1.0),
         baseline=dict(type='HaltonSampler', steps=8, cfg_scale=1.0)),
]

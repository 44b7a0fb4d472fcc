# The embedded default: trains on 2 CPU cores in minutes and writes a checkpoint.
# CIFAR-10 with RGB-quantised 8x8 tokens (216 codes), tiny model. The data is looked for in
# data/cifar10 and ../shared/data/cifar10, else downloaded once (official release, MD5 checked).
_base_ = [
    '../_base_/default_runtime.py',
    '../_base_/models/bigfix_base.py',
    '../_base_/datasets/cifar10_rgbquant.py',
    '../_base_/schedules/adamw_warmup_cosine.py',
    '../_base_/hooks/fixing_sampler.py',
]
model = dict(
    transformer=dict(grid=(8, 8), num_classes=10),
    # 6 levels per channel = 216 codes: the codebook size of the model and its data
    tokenizer=dict(type='RGBQuantTokenizer', levels=6, downsample=4),
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
train_dataloader = dict(dataset=dict(download=True))
val_dataloader = dict(dataset=dict(indices=512, download=True))
test_dataloader = dict(dataset=dict(indices=512, download=True))
default_hooks = dict(logger=dict(interval=20),
                     checkpoint=dict(interval=200, max_keep_ckpts=2))
custom_hooks = [dict(_base_.custom_hooks[0], interval=200)]

# Plain cosine: AdamW 1e-4 (0.9, 0.999) wd 0.03, clip 1.0, 2,500 linear warm-up
# iterations then cosine over all the remaining iterations to 1% of the peak.
# The authors' schedule (peak held, cosine over the last 10%) is
# adamw_warmup_hold_cosine.py.
max_iters = 1_000_000
warmup_iters = 2500
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-4, betas=(0.9, 0.999), weight_decay=0.03),
    clip_grad=dict(max_norm=1.0),
)
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0, end=warmup_iters),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=warmup_iters, end=max_iters,
         T_max=max_iters - warmup_iters, eta_min_ratio=0.01),
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=50_000)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

# The authors' schedule: AdamW 1e-4 (0.9, 0.999) wd 0.03, clip 1.0, 2,500 linear
# warm-up iterations, the peak held, then a cosine down to 1% of the peak over the
# last 10% of the iterations. Between the two schedulers none is active, so the
# learning rate stays at the peak. A child config that changes max_iters / warmup_iters
# restates param_scheduler (begin / end are computed here). Plain cosine over all
# iterations: adamw_warmup_cosine.py.
max_iters = 1_000_000
warmup_iters = 2500
decay_iters = max_iters // 10  # the last 10%
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-4, betas=(0.9, 0.999), weight_decay=0.03),
    clip_grad=dict(max_norm=1.0),
)
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0, end=warmup_iters),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=max_iters - decay_iters, end=max_iters,
         T_max=decay_iters, eta_min_ratio=0.01),
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=50_000)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

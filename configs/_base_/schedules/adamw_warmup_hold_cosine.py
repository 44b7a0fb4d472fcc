# The authors' schedule: the optimizer, clipping, warm-up and loops of
# adamw_warmup_cosine.py, but the peak is held after the warm-up and a cosine brings it
# down to 1% over the last 10% of the iterations. Between the two schedulers none is
# active, so the learning rate stays at the peak. A child config that changes max_iters /
# warmup_iters restates param_scheduler (begin / end are computed here).
_base_ = ['./adamw_warmup_cosine.py']
max_iters = _base_.max_iters
warmup_iters = _base_.warmup_iters
decay_iters = max_iters // 10  # the last 10%
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0, end=warmup_iters),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=max_iters - decay_iters, end=max_iters,
         T_max=decay_iters, eta_min_ratio=0.01),
]

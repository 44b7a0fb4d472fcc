# Periodic samples of the fixing sampler (preset fix_low) beside its no-fixing twin (Halton),
# 8 steps, CFG 1, same seed (FixingSamplerHook). A config changes a field with
#   custom_hooks = [dict(_base_.custom_hooks[0], interval=200)]
custom_hooks = [dict(
    type='FixingSamplerHook', interval=1000, num_samples=20, seed=0,
    sampler=dict(type='TokenFixingSampler', steps=8, fix='low_confidence', fix_ratio=0.1,
                 cfg_scale=1.0),
    baseline=dict(type='HaltonSampler', steps=8, cfg_scale=1.0))]

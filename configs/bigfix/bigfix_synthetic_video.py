# CPU demo of BIGFix on token volumes: moving shapes (8 frames, 32x32 px, 6 classes),
# per-frame RGB-quantised tokens (64 codes, grid (8, 8, 8)), a small transformer, and
# 0-2 given context frames per training clip. Trains in minutes on one CPU thread;
# evaluate with tools/eval_video.py (temporal consistency + per-frame FD).
_base_ = [
    '../_base_/default_runtime.py',
    '../_base_/models/bigfix_base.py',
    '../_base_/datasets/synthetic_video.py',
    '../_base_/schedules/adamw_warmup_cosine.py',
    '../_base_/hooks/fixing_sampler.py',
]
model = dict(
    transformer=dict(size=None, width=64, depth=2, heads=2, grid=(8, 8, 8), num_classes=6),
    # tokenizes the clips in the data pipeline (TokenizeVideo) and decodes samples: 64 codes
    tokenizer=dict(type='PerFrameTokenizer',
                   tokenizer=dict(type='RGBQuantTokenizer', levels=4, downsample=4)),
    context_frames=_base_.context_frames,
    sampler=dict(steps=8, cfg_scale=1.0),
)
max_iters = 1000
warmup_iters = 50
optim_wrapper = dict(optimizer=dict(lr=2e-3, weight_decay=0.01))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-2, by_epoch=False, begin=0, end=warmup_iters),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=warmup_iters, end=max_iters,
         T_max=max_iters - warmup_iters, eta_min_ratio=0.01),
]
train_cfg = dict(max_iters=max_iters, val_interval=500)
default_hooks = dict(logger=dict(interval=50), checkpoint=dict(interval=500, max_keep_ckpts=2))
custom_hooks = [dict(_base_.custom_hooks[0], interval=500, num_samples=6)]

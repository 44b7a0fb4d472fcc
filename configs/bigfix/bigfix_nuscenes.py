# BIGFix on NuScenes front-camera clips, frame prediction: 8 frames (~6 Hz) of 128x224 px,
# LlamaGen VQ f16 per frame -> (8, 8, 14) = 896 tokens, one class (unconditional). Each
# training clip gives its first k frames as context, k uniform in [0, 4]; sample with
#   python tools/sample.py configs/bigfix/bigfix_nuscenes.py CKPT --context-frames 2 --out preds/
_base_ = [
    '../_base_/default_runtime.py',
    '../_base_/models/bigfix_base.py',
    '../_base_/datasets/nuscenes_tokens.py',
    '../_base_/schedules/adamw_warmup_cosine.py',
]
model = dict(
    transformer=dict(size='base', grid=(8, 8, 14), num_classes=1),
    # extracts the tokens (tools/extract_tokens.py) and decodes samples; 16384 codes
    tokenizer=dict(type='PerFrameTokenizer', frame_batch=64,
                   tokenizer=dict(type='VQGANTokenizer', arch='llamagen-vq16',
                                  checkpoint='checkpoints/vq_ds16_c2i.pt')),
    context_frames=_base_.context_frames,
    label_drop_prob=0.0,
    sampler=dict(type='TokenFixingSampler', steps=16, reveal='halton', fix='low_confidence',
                 fix_ratio=0.1, cfg_scale=0.0),
)
# bf16 autocast; bf16 keeps fp32's exponent range: no loss scaling (and no scaler host sync)
optim_wrapper = dict(type='AmpOptimWrapper', dtype='bfloat16', loss_scale=dict(enabled=False))
max_iters = 200_000
train_cfg = dict(max_iters=max_iters, val_interval=10_000)
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0, end=2500),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=2500, end=max_iters,
         T_max=max_iters - 2500, eta_min_ratio=0.01),
]
custom_hooks = [dict(type='EMAHook', momentum=0.001, update_buffers=True, priority=49)]

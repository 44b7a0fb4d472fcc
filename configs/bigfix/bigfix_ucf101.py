# BIGFix on UCF-101, class-conditional (101 classes): 16 frames of 128x128 px tokenized per
# frame by LlamaGen VQ f16 (K=16384) -> (16, 8, 8) = 1024 tokens, transformer size base,
# factorised space + time position embeddings, 3D Halton order, token fixing at sampling.
# Global batch 128 (8 GPUs x 16), bf16, the authors' AdamW schedule.
_base_ = [
    '../_base_/default_runtime.py',
    '../_base_/models/bigfix_base.py',
    '../_base_/datasets/ucf101_tokens.py',
    '../_base_/schedules/adamw_warmup_cosine.py',
    '../_base_/hooks/fixing_sampler.py',
]
model = dict(
    transformer=dict(size='base', grid=(16, 8, 8), num_classes=101),
    # extracts the tokens (tools/extract_tokens.py), decodes samples (weights: user-supplied);
    # its 16384 codes are the codebook size
    tokenizer=dict(type='PerFrameTokenizer', frame_batch=64,
                   tokenizer=dict(type='VQGANTokenizer', arch='llamagen-vq16',
                                  checkpoint='checkpoints/vq_ds16_c2i.pt')),
    sampler=dict(type='TokenFixingSampler', steps=32, reveal='halton', fix='low_confidence',
                 fix_ratio=0.1, cfg_scale=1.5),
)
# bf16 autocast; bf16 keeps fp32's exponent range: no loss scaling (and no scaler host sync)
optim_wrapper = dict(type='AmpOptimWrapper', dtype='bfloat16', loss_scale=dict(enabled=False))
max_iters = 300_000
train_cfg = dict(max_iters=max_iters, val_interval=10_000)
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0, end=2500),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=2500, end=max_iters,
         T_max=max_iters - 2500, eta_min_ratio=0.01),
]
custom_hooks = [
    dict(type='EMAHook', momentum=0.001, update_buffers=True, priority=49),
    dict(_base_.custom_hooks[0], interval=10_000, num_samples=8,
         sampler=dict(type='TokenFixingSampler', steps=32, fix='low_confidence', cfg_scale=1.5),
         baseline=dict(type='HaltonSampler', steps=32, cfg_scale=1.5)),
]

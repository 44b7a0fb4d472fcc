# BIGFix on ImageNet 256x256, the paper's setting: LlamaGen VQ f16 (K=16384, 16x16 tokens),
# size large, dropout 0.1, AdamW 1e-4, 2,500 warm-up iters, peak held, cosine to 1% over
# the last 10% (the authors' schedule), global batch 256 (8 GPUs x 32), bf16, injection
# p=0.2 (shuffle), label dropout 0.1; sampling as the authors: Halton order, every
# placed token re-sampled each step (fix='all'; fix='low_confidence' goes beyond them).
_base_ = [
    '../_base_/default_runtime.py',
    '../_base_/models/bigfix_large.py',
    '../_base_/datasets/imagenet256_tokens.py',
    '../_base_/schedules/adamw_warmup_hold_cosine.py',  # plain cosine: adamw_warmup_cosine.py
]
model = dict(
    transformer=dict(codebook_size=16384, grid=(16, 16), num_classes=1000, dropout=0.1),
    sampler=dict(fix='all'),
    # Training reads pre-extracted tokens (tools/extract_tokens.py with LlamaGen's VQ-16, see
    # docs/tokenizers.md), so no tokenizer is needed to train. To decode samples (sampler hook,
    # tools/sample.py, FID) give it the user-supplied LlamaGen weights in a child config:
    #   _base_ = ['./bigfix_imagenet256.py']
    #   model = dict(tokenizer=dict(_delete_=True, type='VQGANTokenizer', arch='llamagen-vq16',
    #                               checkpoint='checkpoints/vq_ds16_c2i.pt'))
    tokenizer=None,
)
# Global batch = GPUs x train_dataloader.batch_size x accumulative_counts = 8 x 32 x 1 = 256,
# stated in auto_scale_lr (logged and checked by GlobalBatchHook at the start). On 4 GPUs keep
# it with --cfg-options optim_wrapper.accumulative_counts=2.
# bf16 autocast; bf16 keeps fp32's exponent range: no loss scaling (and no scaler host sync)
optim_wrapper = dict(type='AmpOptimWrapper', dtype='bfloat16', loss_scale=dict(enabled=False),
                     accumulative_counts=1)
auto_scale_lr = dict(enable=False, base_batch_size=256)
env_cfg = dict(dist_cfg=dict(backend='nccl'))
custom_hooks = [dict(type='EMAHook', momentum=0.001, update_buffers=True, priority=49)]

# BIGFix with the masked-bit head on binary (LFQ) CIFAR-10 tokens, K = 2^lfq_bits
# (docs/bit_head.md).
# The transformer's input embedding is built from the bits and its output is a small masked
# model over the bits, so nothing scales with K. Bits: the environment variable
# BIGFIX_LFQ_BITS (default 10; the tokenizer config reads the same one):
#   python tools/train.py configs/vqgan_cifar10_lfq.py --work-dir work_dirs/vqgan_cifar10_lfq10
#   python tools/extract_tokens.py configs/vqgan_cifar10_lfq.py --split train --flip \
#       --out data/cifar10_lfq10_tokens/train
#   python tools/extract_tokens.py configs/vqgan_cifar10_lfq.py --split test \
#       --out data/cifar10_lfq10_tokens/test
#   python tools/train.py configs/bigfix_cifar10_bits.py
_base_ = [
    './_base_/default_runtime.py',
    './_base_/models/bigfix_tiny.py',
    './_base_/datasets/cifar10_vq_tokens.py',
    './_base_/schedules/adamw_warmup_cosine.py',
]
lfq_bits = int('{{$BIGFIX_LFQ_BITS:10}}')
codebook_size = 2**lfq_bits
grid = (8, 8)
lfq_checkpoint = f'work_dirs/vqgan_cifar10_lfq{lfq_bits}/iter_2000.pth'
token_root = f'data/cifar10_lfq{lfq_bits}_tokens'

model = dict(
    transformer=dict(codebook_size=codebook_size, grid=grid, num_classes=10,
                     head=dict(type='MaskedBitHead', bit_width=64, depth=2, heads=4, steps=None)),
    # injection on the device (the batches carry clean tokens): shuffle as the paper, or
    # mode='bit_flip' to flip a random subset of a visible token's bits
    injection=dict(injection_prob=0.2, mode='shuffle'),
    tokenizer=dict(type='VQGANTokenizer', arch='cifar-f4-lfq', checkpoint=lfq_checkpoint,
                   quantizer=dict(type='LookupFreeQuantizer', bits=lfq_bits)),
    sampler=dict(steps=8, cfg_scale=1.0),
)
train_dataloader = dict(dataset=dict(data_root=f'{token_root}/train', codebook_size=codebook_size,
                                     pipeline=[dict(type='PackTokenInputs', keys=('tokens', ))]))
val_dataloader = dict(dataset=dict(
    data_root=f'{token_root}/test', codebook_size=codebook_size, indices=1024,
    pipeline=[dict(type='RandomTokenInjection', codebook_size=codebook_size, injection_prob=0.2,
                   mode='shuffle', seed=1234),
              dict(type='PackTokenInputs')]))
test_dataloader = val_dataloader

max_iters = 5000
warmup_iters = 250
optim_wrapper = dict(optimizer=dict(lr=5e-4))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-2, by_epoch=False, begin=0, end=warmup_iters),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=warmup_iters, end=max_iters,
         T_max=max_iters - warmup_iters, eta_min_ratio=0.01),
]
train_cfg = dict(max_iters=max_iters, val_interval=1000)
default_hooks = dict(logger=dict(interval=50), checkpoint=dict(interval=1000, max_keep_ckpts=2))

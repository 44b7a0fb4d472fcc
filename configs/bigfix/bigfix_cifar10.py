# BIGFix on CIFAR-10 VQ tokens: the tiny transformer over the 8x8 tokens (K=1024) of the
# tokenizer trained with configs/vqgan/vqgan_cifar10.py, pre-extracted by tools/extract_tokens.py.
#   python tools/train.py configs/vqgan/vqgan_cifar10.py --work-dir work_dirs/vqgan_cifar10
#   python tools/extract_tokens.py configs/vqgan/vqgan_cifar10.py --split train --flip \
#       --out data/cifar10_vq_tokens/train
#   python tools/extract_tokens.py configs/vqgan/vqgan_cifar10.py --split test \
#       --out data/cifar10_vq_tokens/test
#   python tools/train.py configs/bigfix/bigfix_cifar10.py
# Paths: set the two variables below, or the environment variables BIGFIX_VQ_CKPT and
# BIGFIX_CIFAR10_TOKENS (read when the config is parsed). A missing checkpoint or token folder
# fails at build time with the path in the message.
_base_ = [
    '../_base_/default_runtime.py',
    '../_base_/models/bigfix_base.py',
    '../_base_/datasets/cifar10_vq_tokens.py',
    '../_base_/schedules/adamw_warmup_cosine.py',
    '../_base_/hooks/fixing_sampler.py',
]
vq_checkpoint = '{{$BIGFIX_VQ_CKPT:work_dirs/vqgan_cifar10/iter_2000.pth}}'
token_root = '{{$BIGFIX_CIFAR10_TOKENS:data/cifar10_vq_tokens}}'

model = dict(
    transformer=dict(grid=(8, 8), num_classes=10),
    # its 1024 codes are the codebook size; it decodes samples (FixingSamplerHook,
    # tools/sample.py); training reads tokens only (their meta.json is checked against it)
    tokenizer=dict(type='VQGANTokenizer', arch='cifar-f4', checkpoint=vq_checkpoint),
    sampler=dict(steps=8, cfg_scale=1.0),
)
train_dataloader = dict(dataset=dict(data_root=f'{token_root}/train'))
val_dataloader = dict(dataset=dict(data_root=f'{token_root}/test', indices=1024))
test_dataloader = dict(dataset=dict(data_root=f'{token_root}/test'))

max_iters = 5000
warmup_iters = 250
optim_wrapper = dict(optimizer=dict(lr=5e-4))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-2, by_epoch=False, begin=0, end=warmup_iters),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=warmup_iters, end=max_iters,
         T_max=max_iters - warmup_iters, eta_min_ratio=0.01),
]
train_cfg = dict(max_iters=max_iters, val_interval=1000)
default_hooks = dict(logger=dict(interval=50),
                     checkpoint=dict(interval=1000, max_keep_ckpts=2))

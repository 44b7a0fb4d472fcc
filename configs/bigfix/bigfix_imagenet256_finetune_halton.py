# BIGFix training (random-token injection p=0.2) started from the authors' published
# Halton-MaskGIT ImageNet_256_base, converted once with
#     python tools/model_converters/convert_halton_maskgit.py ImageNet_256_base.pth checkpoints/halton_imagenet256_base.pth
# Everything else is bigfix_imagenet256.py (data, dropout 0.1, injection, batch 256),
# with a shorter run: 100k iterations, the peak held, cosine to 1% over the last 10%.
_base_ = ['./bigfix_imagenet256.py']
load_from = 'checkpoints/halton_imagenet256_base.pth'
model = dict(transformer=dict(size='base'))
max_iters = 100_000
warmup_iters = 1000
decay_iters = max_iters // 10
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0, end=warmup_iters),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=max_iters - decay_iters, end=max_iters,
         T_max=decay_iters, eta_min_ratio=0.01),
]
train_cfg = dict(max_iters=max_iters, val_interval=10_000)

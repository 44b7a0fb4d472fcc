# Train bigfix_mm's small VQ tokenizer on CIFAR-10 (shared JPEG copy) with MMEngine's Runner.
# Arch 'cifar-f4': 32x32 images -> 8x8 tokens, K=1024 l2-normalised 8-d codes with dead-code
# restart, 1.1M parameters. L1 reconstruction + codebook/commitment losses; PSNR and codebook
# usage are logged in training and measured on the test split (VQReconstructionMetric).
# Sized for CPUs: 2,000 iterations of batch 32 take ~12 min on one core.
# Adversarial variant: configs/vqgan/vqgan_cifar10_adv.py.
#   python tools/train.py configs/vqgan/vqgan_cifar10.py --work-dir work_dirs/vqgan_cifar10
#   python tools/extract_tokens.py configs/vqgan/vqgan_cifar10.py --split train \
#       --out data/cifar10_vq/train --flip
_base_ = ['../_base_/default_runtime.py', '../_base_/datasets/token_loaders.py']

vq_arch = 'cifar-f4'
max_iters = 2000
warmup_iters = 100
model = dict(
    type='VQGANTrainer',
    # a code is dead when its running assignments fall under 0.03 per step (about 70 steps
    # unused with decay 0.95); dead codes are re-seeded from batch latents every 50 steps
    autoencoder=dict(arch=vq_arch, restart_interval=50, dead_threshold=0.03, usage_decay=0.95),
    recon_loss='l1',
    codebook_weight=1.0,
    perceptual_weights=None,  # path to local VGG16 / LPIPS weights to add the LPIPS loss
    discriminator=None,
    data_preprocessor=dict(type='TokenDataPreprocessor'),
)

# The tokenizer tools/extract_tokens.py builds from the trained weights: pass the file with
# --checkpoint (or a work dir: its last checkpoint is used) when training wrote elsewhere.
tokenizer_checkpoint = f'work_dirs/vqgan_cifar10/iter_{max_iters}.pth'
tokenizer = dict(type='VQGANTokenizer', arch=vq_arch, checkpoint=tokenizer_checkpoint)
data_root = None  # default: <repo>/../shared/data/cifar10
extract_datasets = dict(
    train=dict(type='CIFAR10JPEG', data_root=data_root, split='train'),
    test=dict(type='CIFAR10JPEG', data_root=data_root, split='test'),
)

train_pipeline = [dict(type='RandomFlip', prob=0.5, direction='horizontal'),
                  dict(type='PackTokenInputs', keys=('img', ))]
val_pipeline = [dict(type='PackTokenInputs', keys=('img', ))]
train_dataloader = dict(
    dataset=dict(type='CIFAR10JPEG', data_root=data_root, split='train', pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=250,
    dataset=dict(type='CIFAR10JPEG', data_root=data_root, split='test', pipeline=val_pipeline))
val_evaluator = dict(type='VQReconstructionMetric')
test_dataloader = val_dataloader
test_evaluator = val_evaluator

optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='Adam', lr=1e-3, betas=(0.9, 0.95)),
                     clip_grad=dict(max_norm=1.0))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-2, by_epoch=False, begin=0, end=warmup_iters),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=warmup_iters, end=max_iters,
         T_max=max_iters - warmup_iters, eta_min_ratio=0.05),
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=max_iters)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(logger=dict(interval=50, log_metric_by_epoch=False),
                     checkpoint=dict(interval=500, max_keep_ckpts=2, save_last=True))

# configs/vqgan/vqgan_cifar10.py plus a hinge GAN loss against MMagic's PatchDiscriminator
# (switched on halfway, at iteration 1,000 of 2,000, with VQGAN's adaptive weight); two
# optimizers built by MMEngine's MultiOptimWrapperConstructor.
_base_ = ['./vqgan_cifar10.py']

model = dict(
    discriminator=dict(_delete_=True, type='PatchDiscriminator', in_channels=3, base_channels=64,
                       num_conv=2,
                       norm_cfg=dict(type='BN')),
    adv_weight=0.1,
    adv_start_iter=1000,
    adaptive_adv_weight=True,
)
optim_wrapper = dict(
    _delete_=True,
    constructor='MultiOptimWrapperConstructor',
    autoencoder=dict(type='OptimWrapper', optimizer=dict(type='Adam', lr=2e-4, betas=(0.5, 0.9)),
                     clip_grad=dict(max_norm=1.0)),
    discriminator=dict(type='OptimWrapper', optimizer=dict(type='Adam', lr=2e-4, betas=(0.5, 0.9))),
)
param_scheduler = []  # constant learning rates for the two-player game
# the discriminator is idle before adv_start_iter
model_wrapper_cfg = dict(type='MMDistributedDataParallel', find_unused_parameters=True)

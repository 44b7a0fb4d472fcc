# Runtime shared by every bigfix_mm config.
default_scope = 'mmagic'
custom_imports = dict(imports=['bigfix_mm'], allow_failed_imports=False)

default_hooks = dict(
    # MMagic's timer, which also handles MMEngine's ValLoop / TestLoop (MMagic's alone fails
    # there once a validation reaches log_processor.window_size batches)
    timer=dict(type='LoopTimerHook'),
    # log_metric_by_epoch=False: validation scalars are logged at their iteration
    # (MMEngine's default logs them at epoch 0 in iteration-based training).
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', interval=5000, by_epoch=False, max_keep_ckpts=3,
                    save_last=True),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    # resume continues the interrupted run's random streams; validation draws none of them
    rng_state=dict(type='RNGStateHook'),
    # logs global batch = processes x batch_size x accumulative_counts (vs auto_scale_lr)
    global_batch=dict(type='GlobalBatchHook'),
)
env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'),
)
# EvalLogProcessor: training losses are smoothed over window_size iterations; validation and
# test metrics are logged as each evaluation computed them (MMEngine's LogProcessor averages
# every '*loss*' scalar, the validation loss too, over the last window_size validations).
log_processor = dict(type='EvalLogProcessor', window_size=50, by_epoch=False)
# Logging backends. LocalVisBackend writes work_dir/<time>/vis_data/ (scalars.json, images).
# TensorBoard: uncomment its line (tensorboard is installed), then `tensorboard --logdir work_dirs`.
vis_backends = [
    dict(type='LocalVisBackend'),
    # dict(type='TensorboardVisBackend'),
]
visualizer = dict(type='Visualizer', vis_backends=vis_backends)
log_level = 'INFO'
load_from = None
resume = False
# diff_rank_seed: rank r seeds its generators with seed + r (different label dropout and
# injection per rank); the data sampler's shuffling seed is shared, so DefaultSampler /
# InfiniteSampler shard one permutation across ranks.
randomness = dict(seed=0, diff_rank_seed=True, deterministic=False)
# Multi-process runs (--launcher pytorch|slurm|mpi) wrap the model in DDP; this subclass of
# MMDistributedDataParallel also honours model.nonfinite_loss and runs on CPU (gloo).
# FSDP: configs/_base_/strategies/fsdp.py. Single-process runs ignore this.
model_wrapper_cfg = dict(type='GuardedDistributedDataParallel', broadcast_buffers=False,
                         find_unused_parameters=False)

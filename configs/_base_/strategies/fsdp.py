# FSDP through MMEngine's FlexibleRunner + FSDPStrategy: parameters, gradients and optimizer
# state sharded over the ranks. Add this file to a config's _base_ list, or switch an existing
# config on the command line:
#   bash tools/dist_train.sh configs/bigfix_imagenet256.py 8 --cfg-options \
#       runner_type=FlexibleRunner strategy.type=FSDPStrategy \
#       strategy.model_wrapper.type=GuardedFullyShardedDataParallel
# Each transformer block (>= 1M parameters) becomes one FSDP unit; checkpoints are gathered
# to a full state dict on rank 0 (state_dict_cfg='full'), so they load like DDP checkpoints.
runner_type = 'FlexibleRunner'
strategy = dict(
    type='FSDPStrategy',
    model_wrapper=dict(
        type='GuardedFullyShardedDataParallel',  # MMFullyShardedDataParallel + nonfinite_loss
        use_orig_params=True,
        auto_wrap_policy=dict(type='torch.distributed.fsdp.wrap.size_based_auto_wrap_policy',
                              min_num_params=1_000_000),
    ),
    state_dict_cfg='full',
)

# FSDP through MMEngine's FlexibleRunner + FSDPStrategy: parameters, gradients and optimizer
# state sharded over the ranks. Add this file to a config's _base_ list, or switch an existing
# config on the command line:
#   bash tools/dist_train.sh configs/bigfix/bigfix_imagenet256.py 8 --cfg-options \
#       runner_type=FlexibleRunner strategy.type=FSDPStrategy \
#       strategy.model_wrapper.type=GuardedFullyShardedDataParallel \
#       strategy.model_wrapper.auto_wrap_policy.type=transformer_block_wrap_policy
# Each transformer Block is one FSDP unit; the tied token embedding / output head and the
# other embeddings stay in the root unit (bigfix_mm/engine/fsdp.py). Checkpoints are gathered
# to a full state dict on rank 0 (state_dict_cfg='full'), so they load like DDP checkpoints.
# EMAHook and FixingSamplerHook are refused under FSDP (tools/train.py says so before
# building): remove them from custom_hooks, e.g. --cfg-options custom_hooks=[]
runner_type = 'FlexibleRunner'
strategy = dict(
    type='FSDPStrategy',
    model_wrapper=dict(
        # MMFullyShardedDataParallel + nonfinite_loss + clipping by the full-model norm
        type='GuardedFullyShardedDataParallel',
        use_orig_params=True,
        auto_wrap_policy=dict(type='transformer_block_wrap_policy'),
    ),
    state_dict_cfg='full',
)

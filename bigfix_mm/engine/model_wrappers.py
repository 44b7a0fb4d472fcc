"""MMEngine's DDP / FSDP wrappers with BIGFix's non-finite loss policy.

MMEngine's wrappers run their own ``train_step`` (``parse_losses`` then
``update_params``) and never call the model's, so ``model.nonfinite_loss='skip'``
would be ignored under them. These subclasses only replace the update by
:func:`bigfix_mm.core.nonfinite.guarded_update`. The DDP one also accepts a CPU
module (gloo), where MMEngine passes ``device_ids=[LOCAL_RANK]`` that torch rejects.
The FSDP one clips and checks gradients by the whole model's norm
(``FSDP.clip_grad_norm_``); MMEngine 0.10.7's ``OptimWrapper`` would clip each rank's
shard by its own norm.

Select them with ``model_wrapper_cfg`` (Runner, the default of
``configs/_base_/default_runtime.py``) or with the FSDP strategy's
``model_wrapper`` (FlexibleRunner, ``configs/_base_/strategies/fsdp.py``).
"""
from typing import Dict, Union

import torch
from mmengine.model import MMDistributedDataParallel, MMFullyShardedDataParallel
from mmengine.optim import OptimWrapper
# MMEngine's root registry: Runner.wrap_model looks wrapper types up there without
# switching to the default scope (an 'mmagic' child entry would not be found).
from mmengine.registry import MODEL_WRAPPERS

from bigfix_mm.core.nonfinite import guarded_update


def _on_cpu(module: torch.nn.Module) -> bool:
    param = next(module.parameters(), None)
    return param is None or param.device.type == 'cpu'


@MODEL_WRAPPERS.register_module()
class GuardedDistributedDataParallel(MMDistributedDataParallel):
    """``MMDistributedDataParallel`` honouring ``model.nonfinite_loss``; CPU-capable."""

    def __init__(self, module: torch.nn.Module, detect_anomalous_params: bool = False, **kwargs):
        if _on_cpu(module):  # torch: device_ids must be None for CPU modules
            kwargs['device_ids'] = None
            kwargs.pop('output_device', None)
        super().__init__(module=module, detect_anomalous_params=detect_anomalous_params, **kwargs)

    def train_step(self, data: Union[dict, tuple, list],
                   optim_wrapper: OptimWrapper) -> Dict[str, torch.Tensor]:
        with optim_wrapper.optim_context(self):
            data = self.module.data_preprocessor(data, training=True)
            losses = self._run_forward(data, mode='loss')
        return guarded_update(self.module, losses, optim_wrapper)


@MODEL_WRAPPERS.register_module()
class GuardedFullyShardedDataParallel(MMFullyShardedDataParallel):
    """``MMFullyShardedDataParallel`` honouring ``model.nonfinite_loss``, with
    gradient clipping by the full-model norm (CUDA only: torch's FSDP refuses to run
    without an accelerator)."""

    def train_step(self, data: Union[dict, tuple, list],
                   optim_wrapper: OptimWrapper) -> Dict[str, torch.Tensor]:
        with optim_wrapper.optim_context(self):
            data = self.module.data_preprocessor(data, training=True)
            losses = self(**data, mode='loss') if isinstance(data, dict) else self(*data,
                                                                                     mode='loss')
        # every rank holds a shard: the norm is FSDP's all-reduced one, never a shard's own
        return guarded_update(self.module, losses, optim_wrapper, grad_norm=self.clip_grad_norm_)

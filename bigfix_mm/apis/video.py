"""Context clips from a config: the given frames :func:`generate` continues."""
import copy
from typing import Tuple

import torch
from mmengine.config import Config

from bigfix_mm.registry import DATASETS


def context_clips(cfg: Config, split: str = 'val', num: int = 16,
                  start: int = 0) -> Tuple[torch.Tensor, torch.Tensor]:
    """Token volumes and labels of ``num`` clips of a config's dataset.

    Builds ``cfg.<split>_dataloader.dataset`` with its pipeline (which must
    produce ``tokens``: ``TokenizeVideo`` or pre-extracted ``TokenDataset``) and
    returns ``(tokens (num, T, h, w) int64, labels (num,) int64)``.
    """
    key = f'{split}_dataloader'
    if key not in cfg:
        raise KeyError(f'config has no {key}: choose --context-split among '
                       f"{[k[:-len('_dataloader')] for k in cfg if k.endswith('_dataloader')]}")
    from bigfix_mm.engine.config_checks import resolve_config
    dataset = DATASETS.build(resolve_config(copy.deepcopy(cfg))[key].dataset)
    if len(dataset) < start + num:
        raise ValueError(f'{key}.dataset holds {len(dataset)} clips; asked for {num} from {start}')
    tokens, labels = [], []
    for i in range(start, start + num):
        item = dataset[i]
        inputs = item['inputs'] if 'inputs' in item else item
        ids = inputs.get('tokens', inputs.get('target'))
        if ids is None:
            raise KeyError(f'{key}.dataset items carry no `tokens`: add TokenizeVideo (or use '
                           'pre-extracted tokens) in its pipeline.')
        tokens.append(torch.as_tensor(ids).long())
        labels.append(int(inputs.get('labels', item.get('gt_label', 0))))
    return torch.stack(tokens), torch.tensor(labels, dtype=torch.long)

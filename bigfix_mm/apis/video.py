"""Context clips from a config: the given frames :func:`generate` continues."""
import copy
from typing import Tuple

import numpy as np
import torch
from mmengine.config import Config

from bigfix_mm.registry import DATASETS


@torch.no_grad()
def encode_clips(model: torch.nn.Module, frames, batch_size: int = 16) -> torch.Tensor:
    """Tokenize real clips with the model's tokenizer.

    Args:
        frames: (N, T, H, W, 3) uint8 RGB (numpy or tensor).

    Returns:
        (N, t, h, w) int64 token ids on the CPU.
    """
    if model.tokenizer is None or not getattr(model.tokenizer, 'is_video', False):
        raise ValueError('encoding clips needs a video tokenizer: set model.tokenizer='
                         "dict(type='PerFrameTokenizer', tokenizer=...).")
    frames = torch.as_tensor(frames)
    out = []
    for start in range(0, len(frames), batch_size):
        clip = frames[start:start + batch_size].to(model.device).permute(0, 1, 4, 2, 3)
        out.append(model.tokenizer.encode(clip.float() / 255.0).long().cpu())  # (B, t, h, w)
    return torch.cat(out)


@torch.no_grad()
def reconstruct_clips(model: torch.nn.Module, frames, batch_size: int = 16) -> np.ndarray:
    """Real clips encoded and decoded by the model's tokenizer (the tokenizer's floor).

    (N, T, H, W, 3) uint8 RGB -> (N, T, H, W, 3) uint8 RGB.
    """
    from bigfix_mm.visualization.video import clips_to_uint8
    tokens = encode_clips(model, frames, batch_size)
    return np.concatenate([
        clips_to_uint8(model.decode(tokens[i:i + batch_size].to(model.device)).cpu())
        for i in range(0, len(tokens), batch_size)])


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

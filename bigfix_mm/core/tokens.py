"""The one check that token ids lie in a codebook."""
from typing import Union

import numpy as np
import torch

from bigfix_mm.errors import InputValueError

REEXTRACT = ('The tokens were made by a tokenizer with another codebook (or are corrupt): make '
             'the codebook size the tokenizer\'s, or re-extract the tokens.')


def check_token_range(ids: Union[torch.Tensor, np.ndarray], codebook_size: int,
                      where: str = 'tokens', fix: str = REEXTRACT) -> None:
    """Raise ``InputValueError`` (a ``ValueError``) naming ``where`` if any id is
    outside ``[0, codebook_size)``.

    Args:
        ids: token ids of any shape (tensor or array); empty passes.
        codebook_size: K.
        where: what holds the ids, for the message (e.g. ``'decode'``, a file).
        fix: the sentence telling the user what to change.
    """
    if ids.size == 0 if isinstance(ids, np.ndarray) else ids.numel() == 0:
        return
    lo, hi = int(ids.min()), int(ids.max())
    if lo < 0 or hi >= codebook_size:
        raise InputValueError(f'{where}: token id out of range [{lo}, {hi}] for '
                              f'codebook_size={codebook_size}. {fix}')

"""What a tokenizer config says about its tokens before anything is built."""
from typing import Optional, Tuple

from bigfix_mm.models.tokenizers.base import FrozenTokenizer
from bigfix_mm.registry import MODELS, registered_class


def tokenizer_facts(tok: Optional[dict]) -> Optional[Tuple[int, int, str]]:
    """(codebook_size, downsample, description) of a tokenizer config, or None where
    only the built tokenizer knows (e.g. a diffusers VQ model): the registered class's
    :meth:`~bigfix_mm.models.tokenizers.base.FrozenTokenizer.config_facts`."""
    if not tok:
        return None
    cls = registered_class(MODELS, tok.get('type'))
    if not (isinstance(cls, type) and issubclass(cls, FrozenTokenizer)):
        cls = FrozenTokenizer  # another registered module: what its config states
    return cls.config_facts(tok)

"""Tokenizer facts read from a config before anything is built."""
from bigfix_mm.models.tokenizers.facts import tokenizer_facts


def test_codebook_and_downsample_of_tokenizer_configs():
    assert tokenizer_facts(dict(type='RGBQuantTokenizer', levels=6, downsample=4))[:2] == (216, 4)
    assert tokenizer_facts(dict(type='RGBQuantTokenizer'))[:2] == (512, 4)  # class defaults
    assert tokenizer_facts(dict(type='PerFrameTokenizer', tokenizer=dict(
        type='RGBQuantTokenizer', levels=4)))[:2] == (64, 4)
    assert tokenizer_facts(dict(type='VQGANTokenizer', arch='llamagen-vq16'))[:2] == (16384, 16)
    assert tokenizer_facts(dict(type='DiffusersVQTokenizer', vqmodel=dict())) is None


def test_a_new_tokenizer_states_its_own_facts():
    """No list of known types: a tokenizer class registered later answers for itself."""
    from bigfix_mm.models.tokenizers.base import BaseTokenizer
    from bigfix_mm.registry import MODELS

    @MODELS.register_module(force=True)
    class EightTimesEightTokenizer(BaseTokenizer):
        @classmethod
        def config_facts(cls, cfg):
            return 64 * int(cfg.get('scale', 1)), 8, 'EightTimesEightTokenizer'

    assert tokenizer_facts(dict(type='EightTimesEightTokenizer', scale=2))[:2] == (128, 8)
    assert tokenizer_facts(dict(type='PerFrameTokenizer', tokenizer=dict(
        type='EightTimesEightTokenizer')))[:2] == (64, 8)

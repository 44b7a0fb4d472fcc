"""Tokenizer facts read from a config before anything is built."""
from bigfix_mm.models.tokenizers.facts import tokenizer_facts


def test_codebook_and_downsample_of_tokenizer_configs():
    assert tokenizer_facts(dict(type='RGBQuantTokenizer', levels=6, downsample=4))[:2] == (216, 4)
    assert tokenizer_facts(dict(type='RGBQuantTokenizer'))[:2] == (512, 4)  # class defaults
    assert tokenizer_facts(dict(type='PerFrameTokenizer', tokenizer=dict(
        type='RGBQuantTokenizer', levels=4)))[:2] == (64, 4)
    assert tokenizer_facts(dict(type='VQGANTokenizer', arch='llamagen-vq16'))[:2] == (16384, 16)
    assert tokenizer_facts(dict(type='DiffusersVQTokenizer', vqmodel=dict())) is None

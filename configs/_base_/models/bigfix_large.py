# BIGFix with the large transformer (1024/24/16); everything else as the tiny base.
_base_ = ['./bigfix_tiny.py']
model = dict(transformer=dict(size='large'))

# BIGFix with the large transformer (1024/24/16); everything else as the base model.
_base_ = ['./bigfix_base.py']
model = dict(transformer=dict(size='large'))

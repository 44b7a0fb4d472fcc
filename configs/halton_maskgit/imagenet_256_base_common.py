# Shared part of the authors' published ImageNet 256 models (16x16 tokens).
_base_ = [
    '../_base_/default_runtime.py',
    '../_base_/models/halton_maskgit_imagenet.py',
    '../_base_/evaluation/generative_imagenet.py',
]

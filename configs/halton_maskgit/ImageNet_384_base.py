# The authors' ImageNet_384_base.pth (converted with tools/model_converters/convert_halton_maskgit.py), CFG w=0.7.
_base_ = ['./imagenet_384_base_common.py']
model = dict(transformer=dict(size='base'), sampler=dict(cfg_scale=0.7))

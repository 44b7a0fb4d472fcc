# The authors' ImageNet_256_base.pth (converted with tools/model_converters/convert_halton_maskgit.py), CFG w=0.7.
_base_ = ['./imagenet_256_base_common.py']
model = dict(transformer=dict(size='base'), sampler=dict(cfg_scale=0.7))

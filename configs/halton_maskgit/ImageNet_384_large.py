# The authors' ImageNet_384_large.pth (converted with tools/model_converters/convert_halton_maskgit.py), CFG w=0.5.
_base_ = ['./imagenet_384_base_common.py']
model = dict(transformer=dict(size='large'), sampler=dict(cfg_scale=0.5))

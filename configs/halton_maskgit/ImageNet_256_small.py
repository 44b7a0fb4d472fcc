# The authors' ImageNet_256_small.pth (converted with tools/model_converters/convert_halton_maskgit.py), CFG w=1.0.
_base_ = ['./imagenet_256_base_common.py']
model = dict(transformer=dict(size='small'), sampler=dict(cfg_scale=1.0))

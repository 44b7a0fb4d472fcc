# The authors' ImageNet_256_tiny.pth (converted with tools/model_converters/convert_halton_maskgit.py), CFG w=1.5.
_base_ = ['./imagenet_256_base_common.py']
model = dict(transformer=dict(size='tiny'), sampler=dict(cfg_scale=1.5))

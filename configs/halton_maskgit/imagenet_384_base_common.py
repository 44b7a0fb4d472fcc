# Shared part of the authors' published ImageNet 384 models (24x24 tokens).
_base_ = ['./imagenet_256_base_common.py']
model = dict(transformer=dict(grid=(24, 24)))
gen_image_size = 384
test_dataloader = dict(dataset=dict(pipeline=[
    dict(type='CenterCropResize', size=gen_image_size),
    dict(type='PackTokenInputs', keys=(), gt_img=True)]))

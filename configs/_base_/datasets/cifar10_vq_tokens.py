# CIFAR-10 as pre-extracted VQ tokens (configs/vqgan/vqgan_cifar10.py tokenizer: K=1024, 8x8 grid),
# written by tools/extract_tokens.py: train with --flip (100,000 rows), test without (10,000).
# The dataset config sets data_root (see configs/bigfix/bigfix_cifar10.py).
_base_ = ['./token_loaders.py']
train_dataloader = dict(
    batch_size=64,
    dataset=dict(type='TokenDataset', data_root='data/cifar10_vq_tokens/train'))
val_dataloader = dict(
    batch_size=128,
    dataset=dict(type='TokenDataset', data_root='data/cifar10_vq_tokens/test'))
test_dataloader = val_dataloader

# CIFAR-10 (official python release or the shared JPEG edition) tokenized on the fly by the
# model's tokenizer (e.g. fixed RGB quantisation, see configs/bigfix/bigfix_cifar10_quick.py);
# pipelines and loaders: tokenize_images.py.
_base_ = ['./tokenize_images.py']
# None: data/cifar10, then $BIGFIX_SHARED (or ../shared)/data/cifar10
# (lookup order: bigfix_mm/datasets/cifar10.py)
data_root = None

train_dataloader = dict(dataset=dict(type='CIFAR10JPEG', data_root=data_root, split='train'))
val_dataloader = dict(dataset=dict(type='CIFAR10JPEG', data_root=data_root, split='test'))
test_dataloader = val_dataloader

# Kept for tools/fixing_study until it names configs/bigfix/bigfix_cifar10_quick.py; the config itself is there.
_base_ = ['./bigfix/bigfix_cifar10_quick.py']

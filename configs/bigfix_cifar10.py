# Kept for tools/fixing_study until it names configs/bigfix/bigfix_cifar10.py; the config itself is there.
_base_ = ['./bigfix/bigfix_cifar10.py']

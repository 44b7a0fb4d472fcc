# Kept for tools/fixing_study until it names configs/vqgan/vqgan_cifar10.py; the config itself is there.
_base_ = ['./vqgan/vqgan_cifar10.py']

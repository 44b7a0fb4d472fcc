from .cifar10 import CIFAR10_CLASSES, CIFAR10JPEG
from .token_dataset import TokenDataset, write_token_meta
from .transforms import PackTokenInputs, RandomTokenInjection, TokenizeImage

__all__ = [
    'CIFAR10_CLASSES', 'CIFAR10JPEG', 'TokenDataset', 'write_token_meta', 'PackTokenInputs',
    'RandomTokenInjection', 'TokenizeImage'
]

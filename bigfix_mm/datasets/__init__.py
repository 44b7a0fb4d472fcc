from .cifar10 import CIFAR10_CLASSES, CIFAR10JPEG
from .fashion_mnist import FASHION_MNIST_CLASSES, FashionMNIST
from .imagenet import ImageNetFolder
from .synthetic_shapes import SHAPES_CLASSES, SyntheticShapes
from .synthetic_video import MOVING_SHAPES_CLASSES, SyntheticMovingShapes
from .token_dataset import TokenDataset, token_dtype, write_token_meta
from .transforms import CenterCropResize, PackTokenInputs, RandomTokenInjection, TokenizeImage
from .video import UCF101, NuScenesFrames, VideoFolderDataset

__all__ = [
    'CIFAR10_CLASSES', 'CIFAR10JPEG', 'FASHION_MNIST_CLASSES', 'FashionMNIST',
    'ImageNetFolder', 'TokenDataset', 'token_dtype', 'write_token_meta', 'PackTokenInputs',
    'RandomTokenInjection', 'TokenizeImage', 'CenterCropResize', 'MOVING_SHAPES_CLASSES',
    'SyntheticMovingShapes', 'SHAPES_CLASSES', 'SyntheticShapes', 'UCF101', 'NuScenesFrames',
    'VideoFolderDataset'
]

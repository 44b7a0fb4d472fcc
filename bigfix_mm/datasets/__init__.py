from bigfix_mm.datasets.cifar10 import CIFAR10_CLASSES, CIFAR10JPEG
from bigfix_mm.datasets.fashion_mnist import FASHION_MNIST_CLASSES, FashionMNIST
from bigfix_mm.datasets.imagenet import ImageNetFolder
from bigfix_mm.datasets.synthetic_shapes import SHAPES_CLASSES, SyntheticShapes
from bigfix_mm.datasets.synthetic_video import MOVING_SHAPES_CLASSES, SyntheticMovingShapes
from bigfix_mm.datasets.token_dataset import TokenDataset, token_dtype, write_token_meta
from bigfix_mm.datasets.transforms import CenterCropResize, PackTokenInputs, RandomTokenInjection, TokenizeImage
from bigfix_mm.datasets.video import UCF101, NuScenesFrames, VideoFolderDataset

__all__ = [
    'CIFAR10_CLASSES', 'CIFAR10JPEG', 'FASHION_MNIST_CLASSES', 'FashionMNIST',
    'ImageNetFolder', 'TokenDataset', 'token_dtype', 'write_token_meta', 'PackTokenInputs',
    'RandomTokenInjection', 'TokenizeImage', 'CenterCropResize', 'MOVING_SHAPES_CLASSES',
    'SyntheticMovingShapes', 'SHAPES_CLASSES', 'SyntheticShapes', 'UCF101', 'NuScenesFrames',
    'VideoFolderDataset'
]

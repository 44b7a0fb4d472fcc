from bigfix_mm.datasets.transforms.images import CenterCropResize
from bigfix_mm.datasets.transforms.inpainting import ImageAsGT
from bigfix_mm.datasets.transforms.tokens import ContextFrames, PackTokenInputs, RandomTokenInjection, TokenizeImage
from bigfix_mm.datasets.transforms.video import ResizeCropFrames, TokenizeVideo

__all__ = [
    'CenterCropResize', 'ContextFrames', 'ImageAsGT', 'PackTokenInputs', 'RandomTokenInjection',
    'TokenizeImage', 'ResizeCropFrames', 'TokenizeVideo'
]

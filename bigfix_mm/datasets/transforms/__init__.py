from .images import CenterCropResize
from .inpainting import ImageAsGT
from .tokens import ContextFrames, PackTokenInputs, RandomTokenInjection, TokenizeImage
from .video import ResizeCropFrames, TokenizeVideo

__all__ = [
    'CenterCropResize', 'ContextFrames', 'ImageAsGT', 'PackTokenInputs', 'RandomTokenInjection',
    'TokenizeImage', 'ResizeCropFrames', 'TokenizeVideo'
]

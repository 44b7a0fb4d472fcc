from .images import CenterCropResize
from .tokens import PackTokenInputs, RandomTokenInjection, TokenizeImage
from .video import ResizeCropFrames, TokenizeVideo

__all__ = [
    'CenterCropResize', 'PackTokenInputs', 'RandomTokenInjection', 'TokenizeImage',
    'ResizeCropFrames', 'TokenizeVideo'
]

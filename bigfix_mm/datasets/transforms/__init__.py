from .images import CenterCropResize
from .tokens import ContextFrames, PackTokenInputs, RandomTokenInjection, TokenizeImage
from .video import ResizeCropFrames, TokenizeVideo

__all__ = [
    'CenterCropResize', 'ContextFrames', 'PackTokenInputs', 'RandomTokenInjection', 'TokenizeImage',
    'ResizeCropFrames', 'TokenizeVideo'
]

from .inference import generate, init_model
from .video import context_clips, generate_video

__all__ = ['generate', 'init_model', 'generate_video', 'context_clips']

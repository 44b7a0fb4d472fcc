from .editing import edit
from .inference import generate, init_model
from .video import context_clips, encode_clips, reconstruct_clips

__all__ = ['edit', 'generate', 'init_model', 'context_clips', 'encode_clips', 'reconstruct_clips']

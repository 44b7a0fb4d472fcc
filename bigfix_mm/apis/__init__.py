from .inference import generate, init_model
from .video import context_clips, encode_clips, generate_video, reconstruct_clips

__all__ = ['generate', 'init_model', 'generate_video', 'context_clips',
           'encode_clips', 'reconstruct_clips']

from bigfix_mm.apis.editing import edit
from bigfix_mm.apis.inference import generate, init_model
from bigfix_mm.apis.video import context_clips, encode_clips, reconstruct_clips

__all__ = ['edit', 'generate', 'init_model', 'context_clips', 'encode_clips', 'reconstruct_clips']

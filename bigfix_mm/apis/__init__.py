from .inference import generate, init_model

__all__ = ['generate', 'init_model']

from .tokens import PackTokenInputs, RandomTokenInjection, TokenizeImage

__all__ = ['PackTokenInputs', 'RandomTokenInjection', 'TokenizeImage']

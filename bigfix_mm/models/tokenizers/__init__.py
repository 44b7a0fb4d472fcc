from .base import BaseTokenizer
from .rgb_quant import RGBQuantTokenizer

__all__ = ['BaseTokenizer', 'RGBQuantTokenizer']

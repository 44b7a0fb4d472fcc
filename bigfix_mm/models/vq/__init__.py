from .perceptual import LPIPSLoss
from .trainer import VQGANTrainer

__all__ = ['LPIPSLoss', 'VQGANTrainer']

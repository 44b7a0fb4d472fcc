from .classifier_accuracy import ClassifierAccuracy
from .composite_fd import CompositeFrechetDistance
from .efficientnet_fd import EfficientNetFrechetDistance
from .local_inception import (LocalFrechetInceptionDistance, LocalInceptionScore,
                              LocalPrecisionAndRecall)
from .token_prediction import TokenPredictionMetric
from .vq_reconstruction import VQReconstructionMetric

__all__ = [
    'ClassifierAccuracy', 'CompositeFrechetDistance', 'EfficientNetFrechetDistance',
    'LocalFrechetInceptionDistance', 'LocalInceptionScore', 'LocalPrecisionAndRecall', 'TokenPredictionMetric',
    'VQReconstructionMetric'
]

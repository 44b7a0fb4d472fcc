from .metrics import (ClassifierAccuracy, EfficientNetFrechetDistance,
                      LocalFrechetInceptionDistance, LocalInceptionScore, LocalPrecisionAndRecall,
                      TokenPredictionMetric, VQReconstructionMetric)

__all__ = [
    'ClassifierAccuracy', 'EfficientNetFrechetDistance', 'LocalFrechetInceptionDistance',
    'LocalInceptionScore', 'LocalPrecisionAndRecall', 'TokenPredictionMetric',
    'VQReconstructionMetric'
]

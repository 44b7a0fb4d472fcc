from bigfix_mm.evaluation.metrics import (ClassifierAccuracy, EfficientNetFrechetDistance,
                      LocalFrechetInceptionDistance, LocalInceptionScore, LocalPrecisionAndRecall,
                      TokenPredictionMetric, VQReconstructionMetric)

__all__ = [
    'ClassifierAccuracy', 'EfficientNetFrechetDistance', 'LocalFrechetInceptionDistance',
    'LocalInceptionScore', 'LocalPrecisionAndRecall', 'TokenPredictionMetric',
    'VQReconstructionMetric'
]

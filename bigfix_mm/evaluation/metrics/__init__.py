from bigfix_mm.evaluation.metrics.classifier_accuracy import ClassifierAccuracy
from bigfix_mm.evaluation.metrics.composite_fd import CompositeFrechetDistance
from bigfix_mm.evaluation.metrics.efficientnet_fd import EfficientNetFrechetDistance
from bigfix_mm.evaluation.metrics.local_inception import (LocalFrechetInceptionDistance, LocalInceptionScore,
                              LocalPrecisionAndRecall)
from bigfix_mm.evaluation.metrics.token_prediction import TokenPredictionMetric
from bigfix_mm.evaluation.metrics.vq_reconstruction import VQReconstructionMetric

__all__ = [
    'ClassifierAccuracy', 'CompositeFrechetDistance', 'EfficientNetFrechetDistance',
    'LocalFrechetInceptionDistance', 'LocalInceptionScore', 'LocalPrecisionAndRecall', 'TokenPredictionMetric',
    'VQReconstructionMetric'
]

from .metrics import TokenPredictionMetric

__all__ = ['TokenPredictionMetric']

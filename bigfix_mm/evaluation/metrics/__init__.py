from .token_prediction import TokenPredictionMetric

__all__ = ['TokenPredictionMetric']

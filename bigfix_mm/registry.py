"""bigfix_mm registers into MMagic's registries (``default_scope = 'mmagic'``).

These re-exports are the only wiring; importing them does not import
``mmagic.models`` / ``mmagic.evaluation`` (which need mmcv's compiled ops).
"""
from mmagic.registry import DATASETS, HOOKS, LOG_PROCESSORS, METRICS, MODELS, TRANSFORMS

__all__ = ['DATASETS', 'HOOKS', 'LOG_PROCESSORS', 'METRICS', 'MODELS', 'TRANSFORMS']

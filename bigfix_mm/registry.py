"""bigfix_mm registers into MMagic's registries (``default_scope = 'mmagic'``).

These re-exports are the only wiring; importing them does not import
``mmagic.models`` / ``mmagic.evaluation`` (which need mmcv's compiled ops).
:func:`with_class_defaults` reads a config as the registered class will see it.
"""
import inspect
from typing import Any, Dict, Optional

from mmagic.registry import DATASETS, HOOKS, LOG_PROCESSORS, METRICS, MODELS, TRANSFORMS

__all__ = ['DATASETS', 'HOOKS', 'LOG_PROCESSORS', 'METRICS', 'MODELS', 'TRANSFORMS',
           'registered_class', 'with_class_defaults']


def registered_class(registry, kind: Optional[str]):
    """The class registered as ``kind``, or None (not a string, unknown type or scope:
    building the config will report it)."""
    if not isinstance(kind, str):
        return None
    try:
        return registry.get(kind)
    except Exception:  # noqa: BLE001  (mmengine raises several types for unknown scopes)
        return None


def signature_defaults(func) -> Dict[str, Any]:
    """The keyword defaults of ``func`` (a class: of its ``__init__``)."""
    try:
        params = inspect.signature(func.__init__ if inspect.isclass(func) else func).parameters
    except (TypeError, ValueError):
        return {}
    return {p.name: p.default for p in params.values() if p.default is not inspect.Parameter.empty}


def with_class_defaults(registry, cfg: dict) -> dict:
    """``cfg``'s kwargs over the defaults of its registered class and the class's bases."""
    cls = registered_class(registry, cfg.get('type'))
    merged: Dict[str, Any] = {}
    for klass in reversed(getattr(cls, '__mro__', ())):
        if '__init__' in vars(klass):
            merged.update(signature_defaults(klass))
    merged.update(cfg)
    return merged

"""MMagic 1.2.0 on NumPy 2 and on mmcv without its compiled ops.

The project pins NumPy 1.26 and mmcv 2.1.0 built with its ops (``tools/setup_env.sh``),
and there :func:`mend_stack` changes nothing. The GPU machines the project is checked on
hold NumPy 2 and get mmcv as a pure-Python wheel (``MMCV_WITH_OPS=0``, distribution
``mmcv-lite``; ``tools/gpu_wheels.sh``). Two things of MMagic then break, and
:func:`mend_stack` (called by ``import bigfix_mm`` before anything of MMagic is
imported) mends them:

- NumPy 2 removed the alias ``np.bool8``, which ``mmagic/utils/trans_utils.py`` reads
  at import; ``mmagic.structures`` and ``mmagic.engine`` import that module. The alias
  is put back as what it always was, ``np.bool_``.
- ``mmagic.models`` imports ``mmcv.ops`` (its StyleGAN, EDVR, BasicVSR++ and TDAN
  modules) and packages the carried set leaves out (safetensors, diffusers, ...);
  ``mmagic.evaluation`` imports ``mmagic.models``; ``mmagic.datasets.transforms``
  imports albumentations. MMEngine imports a registry's ``locations`` before its first
  look-up, so every look-up in those registries (``MODELS``, ``METRICS``,
  ``TRANSFORMS``, ...) would raise. Where mmcv has no ops, each MMagic registry whose
  location does not import is marked as imported instead: a look-up then finds what is
  registered (bigfix_mm's components) and MMEngine's own classes. MMagic's models,
  metrics and transforms stay unavailable, and so do bigfix_mm's metrics, which
  subclass MMagic's (``bigfix_mm.evaluation``, whose import ``bigfix_mm/__init__.py``
  skips with a warning).
"""
import importlib.util
from typing import Dict, List



def mmcv_has_ops() -> bool:
    """Whether mmcv's compiled extension (``mmcv._ext``, i.e. ``mmcv.ops``) is installed."""
    try:
        return importlib.util.find_spec('mmcv._ext') is not None
    except ImportError:  # no mmcv at all
        return False


def restore_numpy_aliases() -> List[str]:
    """Put back the NumPy 1 aliases MMagic reads that NumPy 2 removed; returns their names."""
    import numpy as np
    restored = []
    if not hasattr(np, 'bool8'):
        np.bool8 = np.bool_
        restored.append('bool8')
    return restored


def skip_unimportable_locations() -> Dict[str, str]:
    """Without mmcv's ops, mark MMagic's registries whose locations do not import as
    imported (see the module docstring); returns ``{registry: 'location: why'}``."""
    if mmcv_has_ops():
        return {}
    import mmagic.registry as registries
    from mmengine.registry import Registry
    failed: Dict[str, str] = {}
    skipped = {}
    for name, registry in sorted(vars(registries).items()):
        if not isinstance(registry, Registry) or registry._imported:
            continue
        for loc in registry._locations:
            if loc not in failed:
                failed[loc] = _import_problem(loc)
            if failed[loc]:
                registry._imported = True  # MMEngine's own flag: "locations imported"
                skipped[name] = f'{loc}: {failed[loc]}'
    return skipped


def _import_problem(module: str) -> str:
    """'' if ``module`` imports, else the error (any: a package of another version than
    MMagic's can fail in other ways than a missing module)."""
    try:
        importlib.import_module(module)
    except Exception as err:  # noqa: BLE001
        return f'{type(err).__name__}: {err}'
    return ''


def mend_stack() -> dict:
    """Apply both mends; returns what was changed (empty on the pinned stack)."""
    return dict(numpy_aliases=restore_numpy_aliases(),
                registries_skipped=skip_unimportable_locations())

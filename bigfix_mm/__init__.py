"""bigfix_mm: BIGFix for MMEngine / MMagic.

Loaded by configs with ``custom_imports = dict(imports=['bigfix_mm'])``; importing
the package registers every component in MMagic's registries.
"""
import os

os.environ.setdefault('NO_ALBUMENTATIONS_UPDATE', '1')

from bigfix_mm.utils.cli import known_warnings_ignored  # noqa: E402

with known_warnings_ignored():  # the stack's import-time deprecation notices (scoped)
    from bigfix_mm import apis, datasets, engine, models  # noqa: E402,F401
    try:  # generative metrics subclass mmagic.evaluation's, which needs mmcv's compiled ops
        from bigfix_mm import evaluation  # noqa: E402,F401
    except ImportError as _err:  # a missing external package only: models, samplers and
        if str(_err.name or '').startswith('bigfix_mm'):  # tools/benchmark.py still work
            raise
        import warnings
        warnings.warn(f'bigfix_mm.evaluation is not available ({_err}): its metrics are not '
                      'registered. Install the full OpenMMLab stack (mmcv with ops; '
                      'tools/setup_env.sh) to evaluate.')

__version__ = '0.1.0'

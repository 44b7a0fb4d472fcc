"""bigfix_mm: BIGFix for MMEngine / MMagic.

Loaded by configs with ``custom_imports = dict(imports=['bigfix_mm'])``; importing
the package registers every component in MMagic's registries.
"""
import os

os.environ.setdefault('NO_ALBUMENTATIONS_UPDATE', '1')

from . import apis, datasets, engine, evaluation, models  # noqa: E402,F401

__version__ = '0.1.0'

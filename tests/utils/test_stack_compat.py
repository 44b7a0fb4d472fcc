"""On the pinned stack (NumPy 1.26, mmcv with ops) the mends change nothing. Their effect on
NumPy 2 and mmcv without ops is checked by the kit's rehearsal (tests/tools/test_gpu_check.py)."""
import numpy as np

import bigfix_mm
from bigfix_mm.utils.stack_compat import (mmcv_has_ops, restore_numpy_aliases,
                                          skip_unimportable_locations)


def test_nothing_is_mended_on_the_pinned_stack():
    assert mmcv_has_ops()
    assert bigfix_mm.STACK_MENDS == dict(numpy_aliases=[], registries_skipped={})
    assert skip_unimportable_locations() == {}


def test_the_numpy_alias_is_numpys_own():
    assert restore_numpy_aliases() == [] or np.__version__.startswith('2.')
    assert np.bool8 is np.bool_

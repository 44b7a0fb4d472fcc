"""The project's error type for bad input.

:class:`InputError` marks a problem the user can fix (a config field, a file, a
command-line value). Its message says what is wrong, where, and the fix; the
tools print it as one block instead of a traceback (``bigfix_mm.utils.cli``).
Subclasses also derive from the built-in type callers already expect
(``ValueError``, ``FileNotFoundError``, ...).
"""


class InputError(Exception):
    """Bad user input; the message names what is wrong, where, and the fix."""


class InputValueError(InputError, ValueError):
    """A config field or argument has a value outside its allowed range."""


class DataNotFoundError(InputError, FileNotFoundError):
    """A data set was not found in any of the places it may be."""


class DiskFullError(InputError, OSError):
    """A write ran out of space; the message names the file, the free space and what
    is still intact."""


class InputTypeError(InputError, TypeError):
    """A file or field holds values of the wrong type (e.g. float token ids)."""


class OutputExistsError(InputError, FileExistsError):
    """An output folder already holds other results; the message says how to proceed."""

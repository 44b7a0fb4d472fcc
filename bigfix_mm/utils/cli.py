"""What every ``tools/*.py`` shares: a quiet start and readable errors.

The pinned stack prints deprecation notices that concern none of this
project's code (diffusers registering pytree nodes when MMagic imports it, ...).
:data:`KNOWN_WARNINGS` lists them by category and exact message start. They
are ignored in two narrow places only: while ``import bigfix_mm`` imports the
stack (:func:`known_warnings_ignored`, a scoped filter that is restored right
after, so no warning of a user's own code is hidden), and, in tool processes,
from ``run_tool`` on. ``import bigfix_mm`` installs no lasting filter.

``run_tool(main)`` runs a tool's ``main``: a :class:`bigfix_mm.errors.InputError`
(bad config, file or argument) is printed as one block -- what is wrong, where,
and the fix -- and the process exits with status 2. ``--debug`` (anywhere on the
command line) or ``BIGFIX_DEBUG=1`` shows the traceback instead. Any other
exception keeps its traceback.
"""
import contextlib
import os
import sys
import warnings
from typing import Callable, Iterator

# (category, message regex) of deprecation notices the pinned stack prints on import /
# model build; none concerns code of this project.
KNOWN_WARNINGS = (
    # diffusers 0.24 (imported by MMagic) on torch >= 2.2
    (FutureWarning, r'`torch\.utils\._pytree\._register_pytree_node` is deprecated'),
)
EXIT_INPUT_ERROR = 2


def quiet_known_warnings() -> None:
    """Ignore exactly the :data:`KNOWN_WARNINGS` from now on (tool processes only)."""
    for category, message in KNOWN_WARNINGS:
        warnings.filterwarnings('ignore', message=message, category=category)


@contextlib.contextmanager
def known_warnings_ignored() -> Iterator[None]:
    """Ignore the :data:`KNOWN_WARNINGS` inside the block; the filters are restored after."""
    with warnings.catch_warnings():
        quiet_known_warnings()
        yield


def debug_requested(argv: list) -> bool:
    """True for ``--debug`` in ``argv`` (removed from it) or ``BIGFIX_DEBUG=1``."""
    flag = '--debug' in argv
    while '--debug' in argv:
        argv.remove('--debug')
    return flag or os.environ.get('BIGFIX_DEBUG', '') not in ('', '0')


def format_input_error(err: BaseException) -> str:
    """The one block a tool prints for an input error."""
    text = str(err).strip() or type(err).__name__
    body = '\n'.join(f'  {line}' for line in text.splitlines())
    return (f'error ({type(err).__name__}):\n{body}\n'
            '(--debug or BIGFIX_DEBUG=1 shows the traceback)')


def run_tool(main: Callable[[], object]) -> object:
    """Run ``main()`` and return its result; print input errors as one block and exit
    with status 2."""
    from bigfix_mm.errors import InputError
    quiet_known_warnings()
    debug = debug_requested(sys.argv)
    try:
        return main()
    except InputError as err:
        if debug:
            raise
        print(format_input_error(err), file=sys.stderr, flush=True)
        sys.exit(EXIT_INPUT_ERROR)


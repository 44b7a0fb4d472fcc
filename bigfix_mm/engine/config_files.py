"""Reading a config file: its ``_base_`` chain, syntax errors named, its own variables.

MMEngine 0.10.7 parses a config's text without its file name, so an unclosed
``(`` ends in ``File "<unknown>", line 2``. :func:`load_config` (what every tool
uses) first compiles the file and each ``_base_`` file it inherits, in order,
under its own name: a syntax error is a :class:`ConfigSyntaxError` naming the
file, the line and the offending text. A missing config or base file is a
:class:`ConfigFileError`. Both print as one block with exit status 2.

:func:`config_variables` lists the names the files assign at top level and the
names they read (``max_iters`` in ``train_cfg = dict(max_iters=max_iters)``,
``{{_base_.train_pipeline}}``): the config's own variables, which
:mod:`bigfix_mm.engine.config_keys` tells apart from keys no component reads.
"""
import ast
import re
from pathlib import Path
from typing import List, Optional, Sequence, Set, Tuple, Union

from mmengine.config import Config

from bigfix_mm.errors import InputError

BASE_REFERENCE = re.compile(r'_base_\s*\.\s*([A-Za-z_]\w*)')


class ConfigSyntaxError(InputError, SyntaxError):
    """A config file (or a ``_base_`` file) is not valid Python; the message names it."""


class ConfigFileError(InputError, FileNotFoundError):
    """A config file or a ``_base_`` file it names does not exist."""


def _parse(path: Path, inherited_by: Optional[Path]) -> ast.Module:
    if not path.is_file():
        via = f' (a _base_ of {inherited_by})' if inherited_by else ''
        kind = 'is a directory, not a config file' if path.is_dir() else 'does not exist'
        raise ConfigFileError(f'config file {path}{via} {kind}: check the path.')
    text = path.read_text(encoding='utf-8')
    try:
        return ast.parse(text, filename=str(path))
    except SyntaxError as err:
        line = (err.text or '').rstrip('\n')
        caret = ' ' * max((err.offset or 1) - 1, 0) + '^'
        via = f'\n(inherited by {inherited_by})' if inherited_by else ''
        raise ConfigSyntaxError(f'syntax error in config file {path}, line {err.lineno}: '
                                f'{err.msg}\n    {line}\n    {caret}{via}') from None


def config_files(path: Union[str, Path]) -> List[Path]:
    """``path`` and every ``_base_`` file it inherits (depth first, each once), each
    checked to parse.

    Raises:
        ConfigSyntaxError: a file does not parse (file, line and text named).
        ConfigFileError: a file does not exist.
    """
    order: List[Path] = []

    def visit(file: Path, parent: Optional[Path]) -> None:
        file = file.resolve()
        if file in order:
            return
        _parse(file, parent)
        order.append(file)
        if file.suffix != '.py':
            return
        for base in Config._get_base_files(str(file)):
            base_path, _ = Config._get_cfg_path(base, str(file))  # also pkg::path bases
            visit(Path(base_path), file)

    visit(Path(path), None)
    return order


def load_config(path: Union[str, Path], options: Optional[dict] = None) -> Config:
    """``Config.fromfile(path)`` after :func:`config_files` checked the chain, then
    ``--cfg-options`` merged in (``options``: what ``DictAction`` parsed)."""
    config_files(path)
    cfg = Config.fromfile(str(path))
    if options:
        cfg.merge_from_dict(options)
    return cfg


def config_variables(files: Sequence[Path]) -> Tuple[Set[str], Set[str]]:
    """(names assigned at the top level, names read) over ``files``."""
    defined: Set[str] = set()
    read: Set[str] = set()
    for file in files:
        if file.suffix != '.py':
            continue
        text = file.read_text(encoding='utf-8')
        tree = ast.parse(text, filename=str(file))
        for node in tree.body:
            targets = node.targets if isinstance(node, ast.Assign) else \
                [node.target] if isinstance(node, (ast.AnnAssign, ast.AugAssign)) else []
            defined.update(t.id for t in targets if isinstance(t, ast.Name))
        read.update(n.id for n in ast.walk(tree)
                    if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load))
        read.update(BASE_REFERENCE.findall(text))
    return defined, read

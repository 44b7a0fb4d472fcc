"""The package's floor plan: its parts import one way, lowest first, and no module
circle exists (lazy imports inside functions included).

``LAYERS`` is the one statement of the order. A module may import the parts of lower
layers and its own part; a part of the same layer or of a higher one is an upward
import. The leaf layer (``core``) also imports no third-party package but
``LEAF_PACKAGES``.
"""
import ast
import sys
from pathlib import Path
from typing import Dict, Iterable, List, Set, Tuple

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / 'bigfix_mm'
LAYERS: Tuple[Tuple[str, ...], ...] = (
    ('errors', 'registry'),  # no bigfix_mm import (registry: MMagic's registries)
    ('core', ),  # schedules, bits, injection, context, sampling primitives, checkpoint files
    ('utils', ),  # command-line helpers
    ('models', 'datasets'),  # the methods; datasets and transforms
    ('evaluation', ),  # metrics and feature networks
    ('visualization', ),  # grids, strips, GIFs
    ('engine', ),  # hooks, MMEngine wiring, config checks, launch
    ('apis', ),  # init_model, generate, benchmark
)
LEAF = 'core'
LEAF_PACKAGES = {'torch', 'numpy', 'mmengine', 'safetensors'}

Graph = Dict[str, Set[str]]  # module -> the modules it imports (dotted names)


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix('').parts)
    return '.'.join(parts[:-1] if parts[-1] == '__init__' else parts)


def imports_of(source: str, module: str, is_package: bool) -> Set[str]:
    """Every module ``source`` imports, at module level or inside functions."""
    found = set()
    package = module if is_package else module.rpartition('.')[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ''
            if node.level:
                anchor = package.split('.')[:len(package.split('.')) - (node.level - 1)]
                base = '.'.join(anchor + ([base] if base else []))
            found.add(base)
            found.update(f'{base}.{alias.name}' for alias in node.names)  # submodules
    return found


def package_graph(root: Path = PACKAGE) -> Graph:
    graph = {}
    for path in sorted(root.rglob('*.py')):
        name = module_name(path, root)
        graph[name] = imports_of(path.read_text(), name, path.name == '__init__.py')
    return graph


def part_of(module: str, top: str) -> str:
    """The part (first sub-package or module below ``top``) of a dotted name; '' for top."""
    parts = module.split('.')
    return parts[1] if len(parts) > 1 and parts[0] == top else ''


def upward_imports(graph: Graph, layers=LAYERS, top: str = 'bigfix_mm') -> List[str]:
    """``importer -> imported`` for each import of a part not below the importer's own."""
    rank = {part: i for i, layer in enumerate(layers) for part in layer}
    bad = []
    for module, targets in sorted(graph.items()):
        own = part_of(module, top)
        if not own:  # the package's __init__ registers everything
            continue
        if own not in rank:
            bad.append(f'{module}: part {own!r} is in no layer of LAYERS')
            continue
        for target in sorted(targets):
            if target not in graph or part_of(target, top) in ('', own):
                continue
            part = part_of(target, top)
            if part not in rank or rank[part] >= rank[own]:
                bad.append(f'{module} -> {target}')
    return bad


def leaf_outside_imports(graph: Graph, leaf: str = LEAF, allowed: Iterable[str] = LEAF_PACKAGES,
                         top: str = 'bigfix_mm') -> List[str]:
    """Third-party imports of the leaf layer other than ``allowed`` (stdlib is fine)."""
    allowed = set(allowed) | set(sys.stdlib_module_names) | {top}
    return [f'{module} -> {target}' for module, targets in sorted(graph.items())
            if part_of(module, top) == leaf for target in sorted(targets)
            if target.split('.')[0] not in allowed]


def module_circles(graph: Graph) -> List[List[str]]:
    """Circles among modules. Importing a package counts as importing the modules its
    ``__init__`` imports (so ``from .hooks import FixingSamplerHook`` reaches the hook's
    module); the ``__init__`` files themselves are not nodes."""
    packages = {m for m in graph if any(o.startswith(m + '.') for o in graph)}

    def resolve(target: str, seen: Set[str]) -> Set[str]:
        if target not in graph or target in seen:
            return set()
        if target not in packages:
            return {target}
        seen.add(target)
        return set().union(*(resolve(t, seen) for t in graph[target] if t.startswith(target + '.')))

    edges = {m: set().union(*(resolve(t, set()) for t in ts)) - {m}
             for m, ts in graph.items() if m not in packages}
    circles, state = [], {}

    def visit(node: str, stack: List[str]) -> None:
        state[node] = 'open'
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 'open':
                circles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, stack + [nxt])
        state[node] = 'done'

    for node in sorted(edges):
        if node not in state:
            visit(node, [node])
    return circles


# ------------------------------------------------------------------ the real package
def test_package_imports_one_way():
    assert upward_imports(package_graph()) == []


def test_leaf_layer_imports_only_torch_numpy_mmengine():
    assert leaf_outside_imports(package_graph()) == []


def test_no_module_imports_itself_in_a_circle():
    assert module_circles(package_graph()) == []


def test_every_part_of_the_package_is_in_a_layer():
    parts = {p.stem if p.is_file() else p.name for p in PACKAGE.iterdir()
             if (p.suffix == '.py' and p.name != '__init__.py') or (p / '__init__.py').is_file()}
    assert parts == {part for layer in LAYERS for part in layer}


# ------------------------------------------------------------------ the checker itself
def _write(root: Path, files: Dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root / 'bigfix_mm'


def test_a_planted_upward_import_is_reported(tmp_path):
    """A copy of the real package with one upward import (core -> engine) fails."""
    import shutil
    copy = tmp_path / 'bigfix_mm'
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns('__pycache__'))
    target = copy / 'core' / 'schedules.py'
    target.write_text(target.read_text() + '\n\ndef _late():\n'
                      '    from bigfix_mm.engine.hooks import fixing_sampler_hook  # noqa\n')
    assert upward_imports(package_graph(copy)) == [
        'bigfix_mm.core.schedules -> bigfix_mm.engine.hooks',
        'bigfix_mm.core.schedules -> bigfix_mm.engine.hooks.fixing_sampler_hook']


@pytest.mark.parametrize('importer, imported, upward', [
    ('models/a.py', 'bigfix_mm.datasets.b', True),  # same layer, other part
    ('models/a.py', 'bigfix_mm.engine.c', True),  # higher layer
    ('engine/c.py', 'bigfix_mm.models.a', False),  # lower layer
    ('models/a.py', 'bigfix_mm.core.d', False),
])
def test_checker_on_a_synthetic_package(tmp_path, importer, imported, upward):
    files = {f'bigfix_mm/{p}/__init__.py': '' for p in ('models', 'datasets', 'engine', 'core')}
    files.update({'bigfix_mm/__init__.py': '', 'bigfix_mm/models/a.py': '',
                  'bigfix_mm/datasets/b.py': '', 'bigfix_mm/engine/c.py': '',
                  'bigfix_mm/core/d.py': ''})
    files[f'bigfix_mm/{importer}'] = f'import {imported}\n'
    layers = (('core', ), ('models', 'datasets'), ('engine', ))
    bad = upward_imports(package_graph(_write(tmp_path, files)), layers)
    module = 'bigfix_mm.' + importer[:-3].replace('/', '.')
    assert bad == ([f'{module} -> {imported}'] if upward else [])


def test_checker_finds_circles_and_foreign_leaf_imports(tmp_path):
    root = _write(tmp_path, {
        'bigfix_mm/__init__.py': '', 'bigfix_mm/core/__init__.py': '',
        'bigfix_mm/core/a.py': 'import scipy\nfrom . import b\n',
        'bigfix_mm/core/b.py': 'def f():\n    from bigfix_mm.core import a\n'})
    graph = package_graph(root)
    assert module_circles(graph) == [['bigfix_mm.core.a', 'bigfix_mm.core.b', 'bigfix_mm.core.a']]
    assert leaf_outside_imports(graph) == ['bigfix_mm.core.a -> scipy']

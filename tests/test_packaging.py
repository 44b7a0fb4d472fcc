"""setup.py declares what bigfix_mm imports, and the installed stack satisfies it."""
import ast
import sys
from importlib import metadata

from packaging.requirements import Requirement

from tests.conftest import REPO

NOT_DECLARED = {'mmcv', 'mmagic'}  # installed by tools/setup_env.sh (ops build, --no-deps)


def declared() -> list:
    tree = ast.parse((REPO / 'setup.py').read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and node.targets[0].id == 'INSTALL_REQUIRES':
            return [Requirement(r) for r in ast.literal_eval(node.value)]
    raise AssertionError('setup.py has no INSTALL_REQUIRES')


def imported_top_level_modules() -> set:
    names = set()
    for path in (REPO / 'bigfix_mm').rglob('*.py'):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names |= {a.name.split('.')[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split('.')[0])
    return names - set(sys.stdlib_module_names) - {'bigfix_mm'}


def test_every_declared_requirement_is_satisfied_here():
    for req in declared():
        assert req.specifier.contains(metadata.version(req.name), prereleases=True), req


def top_level_modules(dist_name: str) -> set:
    """Importable top-level names a distribution installs."""
    dist = metadata.distribution(dist_name)
    listed = dist.read_text('top_level.txt')
    if listed:
        return set(listed.split())
    return {f.parts[0].removesuffix('.py') for f in dist.files or []
            if not f.parts[0].endswith(('.dist-info', '.data'))}


def test_every_third_party_import_is_declared():
    provided = set().union(*(top_level_modules(r.name) for r in declared()))
    missing = sorted(imported_top_level_modules() - NOT_DECLARED - provided)
    assert not missing, f'imported by bigfix_mm but not declared in setup.py: {missing}'

"""Check a GPU machine in one command: the speed table, a kill + resume, FSDP, samplers.

    # here, with the package index: the wheels the GPU image lacks (20 MiB)
    bash tools/gpu_wheels.sh
    # there (torch, numpy, ... but no OpenMMLab and no index), from the repository root:
    python3 tools/gpu_check.py --install-from .gpu_wheels --out gpu_check.jsonl
    # the same checks on tiny shapes on a CPU (the rehearsal of tests/tools/test_gpu_check.py)
    python tools/gpu_check.py --device cpu --tiny

Prints one JSON line per check (``check``, ``status`` ok / failed / timeout / skipped,
``wall_s``, ``limit_s``, the check's ``rows``, and ``error`` with the end of its log
when it did not pass), appends them to ``--out``, and ends with a summary table. Each
check runs in a child process with its own time limit, within ``--budget`` seconds in all
(``bigfix_mm/apis/gpu_kit/driver.py`` says why). The checks are listed in
``bigfix_mm/apis/gpu_kit/cases.py``; docs/performance.md ("On a GPU machine") gives
their expected times. Exit status: 0 when every check passed or was skipped, 1 when one
failed or timed out, 2 for bad input (a missing wheel, an unknown check).
"""
import argparse
import glob
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import List, Optional, Sequence

REPO = Path(__file__).resolve().parents[1]
REQUIREMENTS = REPO / 'requirements' / 'gpu_wheels.txt'


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--install-from', metavar='DIR',
                   help='install the carried wheels of DIR (tools/gpu_wheels.sh) first, '
                   'without any package index, and import from them')
    p.add_argument('--site', default='/tmp/bigfix_gpu_site',
                   help='where --install-from installs them (pip --target)')
    p.add_argument('--device', default='cuda', help="'cuda', 'cuda:1', 'cpu'")
    p.add_argument('--tiny', action='store_true', help='every check on tiny shapes')
    p.add_argument('--checks', nargs='+', default=None, help='a subset, in running order')
    p.add_argument('--budget', type=float, default=480.0,
                   help='seconds for all checks together (each also has its own limit)')
    p.add_argument('--peak-tflops', type=float, default=None,
                   help="the device's matrix TFLOP/s for MFU (default: measured by the "
                   "'device' check)")
    p.add_argument('--work-dir', default='/tmp/bigfix_gpu_check', type=Path,
                   help='logs, configs and checkpoints of the checks')
    p.add_argument('--out', type=Path, default=None, help='also append the JSON lines here')
    return p.parse_args(argv)


def required_wheels(requirements: Path = REQUIREMENTS) -> List[tuple]:
    """(normalised name, version or None) of each line of requirements/gpu_wheels.txt."""
    out = []
    for line in requirements.read_text().splitlines():
        line = line.split('#', 1)[0].strip()
        if line:
            name, _, version = line.partition('==')
            out.append((_normalise(name), version.strip() or None))
    return out


def _normalise(name: str) -> str:
    return re.sub(r'[-_.]+', '_', name).lower()


def missing_wheels(folder: str, requirements: Path = REQUIREMENTS) -> List[str]:
    """The requirements with no wheel in ``folder`` (of that version, where pinned)."""
    have = {}
    for path in glob.glob(os.path.join(folder, '*.whl')):
        name, version = os.path.basename(path).split('-')[:2]
        have[_normalise(name)] = version
    return [f'{name}=={version}' if version else name
            for name, version in required_wheels(requirements)
            if name not in have or (version and have[name] != version)]


def install_carried_wheels(folder: str, site: str) -> None:
    """Install every wheel of ``folder`` into ``site`` with pip, no index and no
    dependency resolution (the folder is the whole set), and import from ``site`` first,
    in this process and its children (PYTHONPATH). This is the one place the kit changes
    the import path: ``site`` holds the carried stack, bigfix_mm included."""
    missing = missing_wheels(folder)
    if missing:
        _input_error(f'--install-from {folder}: no wheel for {", ".join(missing)} '
                     f'(the list is {REQUIREMENTS.name} in requirements/). Fill the folder '
                     'with tools/gpu_wheels.sh on a machine with the package index.')
    wheels = sorted(glob.glob(os.path.join(folder, '*.whl')))
    cmd = [sys.executable, '-m', 'pip', 'install', '-q', '--no-index', '--no-deps',
           '--no-compile', '--disable-pip-version-check', '--upgrade', '--target', site,
           *wheels]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        _input_error(f'--install-from {folder}: pip could not install the wheels:\n'
                     + done.stderr[-2000:])
    sys.path.insert(0, site)
    os.environ['PYTHONPATH'] = os.pathsep.join(
        [site] + [p for p in os.environ.get('PYTHONPATH', '').split(os.pathsep) if p])


def _input_error(text: str) -> None:
    """The tools' one-block input error (bigfix_mm.utils.cli), before bigfix_mm imports."""
    body = '\n'.join(f'  {line}' for line in text.splitlines())
    print(f'error (MissingWheel):\n{body}', file=sys.stderr, flush=True)
    sys.exit(2)


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    if args.install_from:
        install_carried_wheels(args.install_from, args.site)
    from bigfix_mm.utils.cli import run_tool
    return run_tool(lambda: _run(args))


def _run(args: argparse.Namespace) -> int:
    from bigfix_mm.errors import InputValueError
    from bigfix_mm.apis.gpu_kit.cases import CASE_BY_NAME, CASES, CaseContext
    from bigfix_mm.apis.gpu_kit.driver import run_checks, summary_table
    names = args.checks or [case.name for case in CASES]
    unknown = [n for n in names if n not in CASE_BY_NAME]
    if unknown:
        raise InputValueError(f'--checks: unknown {unknown}; the checks are '
                              f'{[c.name for c in CASES]}')
    args.work_dir.mkdir(parents=True, exist_ok=True)
    ctx = CaseContext(args.device, args.tiny, args.work_dir.resolve(), REPO, args.peak_tflops)
    lines = run_checks(names, ctx, args.budget, args.out, echo=lambda t: print(t, flush=True))
    print(summary_table(lines), flush=True)
    return 0 if all(line['status'] in ('ok', 'skipped') for line in lines) else 1


if __name__ == '__main__':
    sys.exit(main())

#!/usr/bin/env bash
# The project's test command (the README's second command runs it after setup).
#   bash tools/run_tests.sh            # default suite (slow tests excluded)
#   bash tools/run_tests.sh -m slow    # only the slow ones
# Collects tests/ and each project's tests (projects/*/tests). Test files are spread over BIGFIX_TEST_WORKERS processes (pytest-xdist; default: the CPU
# count, at most 4), one torch thread each; a file's tests share one process and its
# fixtures. BIGFIX_TEST_WORKERS=1 runs everything in this process.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
CPUS=$(nproc 2>/dev/null || echo 1)
WORKERS="${BIGFIX_TEST_WORKERS:-$(( CPUS < 4 ? CPUS : 4 ))}"
export NO_ALBUMENTATIONS_UPDATE=1 OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
if [ "$#" -eq 0 ]; then set -- -m "not slow"; fi
SPREAD=()
if [ "$WORKERS" -gt 1 ]; then SPREAD=(-n "$WORKERS" --dist loadfile); fi
exec "${VENV:-$ROOT/.venv}/bin/python" -m pytest -q -p no:cacheprovider --benchmark-disable \
  "${SPREAD[@]}" tests projects "$@"

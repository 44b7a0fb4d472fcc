#!/usr/bin/env bash
# The project's test command (the README's second command runs it after setup).
#   bash tools/run_tests.sh            # default suite (slow tests excluded)
#   bash tools/run_tests.sh -m slow    # only the slow ones
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export NO_ALBUMENTATIONS_UPDATE=1 OMP_NUM_THREADS="${OMP_NUM_THREADS:-2}"
if [ "$#" -eq 0 ]; then set -- -m "not slow"; fi
exec "${VENV:-$ROOT/.venv}/bin/python" -m pytest -q -p no:cacheprovider --benchmark-disable tests "$@"

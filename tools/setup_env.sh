#!/usr/bin/env bash
# Create .venv from nothing with the pinned OpenMMLab stack and bigfix_mm (editable).
#
#   bash tools/setup_env.sh            # venv at ./.venv
#   VENV=/path/to/venv bash tools/setup_env.sh
#
# mmcv 2.1.0 must be compiled with its ops (mmagic.models / mmagic.evaluation
# import mmcv.ops). The built wheel is cached in $BIGFIX_WHEEL_CACHE
# (default ~/.cache/bigfix-mm/wheels/torch-<version>) and reused on later runs.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${VENV:-$ROOT/.venv}"
PY="${PYTHON:-python3}"
start=$(date +%s)

if [ ! -x "$VENV/bin/python" ]; then
  "$PY" -m venv "$VENV"
fi
VPY="$VENV/bin/python"
pip_install() { "$VPY" -m pip install -q --disable-pip-version-check "$@"; }

echo "[setup] step 1/4: torch and build requirements"
pip_install -r "$ROOT/requirements/build.txt"

TORCH_VERSION=$("$VPY" -c 'import torch; print(torch.__version__.split("+")[0])')
CACHE="${BIGFIX_WHEEL_CACHE:-$HOME/.cache/bigfix-mm/wheels}/torch-$TORCH_VERSION"
mkdir -p "$CACHE"
MMCV_WHEEL=$(ls "$CACHE"/mmcv-2.1.0-*.whl 2>/dev/null | head -n 1 || true)
if [ -z "$MMCV_WHEEL" ]; then
  echo "[setup] step 2/4: compiling mmcv 2.1.0 with ops (once; 6-16 min on 2 cores)"
  WRAP="$(mktemp -d)"
  # mmcv hard-codes -std=c++17; torch >= 2.10 headers need C++20. The last -std wins.
  printf '#!/bin/sh\nexec g++ "$@" -std=c++20\n' > "$WRAP/cxx20"
  chmod +x "$WRAP/cxx20"
  MMCV_WITH_OPS=1 FORCE_CUDA=0 MAX_JOBS="${MAX_JOBS:-$(nproc)}" CFLAGS=-g0 CXX="$WRAP/cxx20" \
    "$VPY" -m pip wheel -q --no-build-isolation --no-deps --no-cache-dir mmcv==2.1.0 -w "$CACHE"
  MMCV_WHEEL=$(ls "$CACHE"/mmcv-2.1.0-*.whl | head -n 1)
else
  echo "[setup] step 2/4: reusing cached $MMCV_WHEEL"
fi

echo "[setup] step 3/4: OpenMMLab stack"
pip_install -c "$ROOT/requirements/build.txt" -r "$ROOT/requirements/runtime.txt" "$MMCV_WHEEL"
pip_install --no-deps -r "$ROOT/requirements/mmagic.txt"

echo "[setup] step 4/4: tests and bigfix_mm (editable)"
pip_install -c "$ROOT/requirements/build.txt" -r "$ROOT/requirements/tests.txt"
pip_install --no-deps --no-build-isolation -e "$ROOT"

NO_ALBUMENTATIONS_UPDATE=1 "$VPY" -c 'import mmcv.ops, mmagic.models, mmagic.evaluation, mmagic.apis, bigfix_mm; print("[setup] stack imports: ok")'
# Optional: Fashion-MNIST from Debian (second small real data set; its tests skip without it).
# Only where apt-get exists and we are root; BIGFIX_SKIP_APT=1 skips it.
if [ -z "${BIGFIX_SKIP_APT:-}" ] && [ ! -d /usr/share/datasets/fashion-mnist ] \
   && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" -eq 0 ]; then
  echo "[setup] optional: apt-get install dataset-fashion-mnist"
  { apt-get install -y -q dataset-fashion-mnist || { apt-get update -q && apt-get install -y -q dataset-fashion-mnist; }; } \
    >/dev/null 2>&1 || echo "[setup] dataset-fashion-mnist not installed (optional; its tests skip)"
fi
echo "[setup] done in $(( $(date +%s) - start )) s: $VENV"

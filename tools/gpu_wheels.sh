#!/usr/bin/env bash
# Fill a folder with the wheels a GPU machine lacks (requirements/gpu_wheels.txt), for
# CPython 3.12 manylinux x86_64, using this machine's package index. The GPU machine then
# installs them without any index: python3 tools/gpu_check.py --install-from .gpu_wheels
# (docs/performance.md, "On a GPU machine").
#
#   bash tools/gpu_wheels.sh                      # -> .gpu_wheels/ (git-ignored)
#   bash tools/gpu_wheels.sh DIR                  # -> DIR
#   GPU_PYTHON=3.11 bash tools/gpu_wheels.sh DIR  # wheels for another CPython (the CPU rehearsal)
#
# mmcv is built here from its source with MMCV_WITH_OPS=0 (a pure-Python wheel named
# mmcv-lite, without mmcv.ops), and bigfix_mm from this checkout. The folder is replaced
# only once every wheel is in and the whole is at most 64 MiB (the limit of what travels
# with the working tree).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEST="$(mkdir -p "$(dirname "${1:-$ROOT/.gpu_wheels}")" && cd "$(dirname "${1:-$ROOT/.gpu_wheels}")" && pwd)/$(basename "${1:-$ROOT/.gpu_wheels}")"
PYV="${GPU_PYTHON:-3.12}"
PY="${PYTHON:-python3}"
LIST="$ROOT/requirements/gpu_wheels.txt"
LIMIT_MIB=64
BUILT='^(mmcv-lite|bigfix-mm)([=<> #]|$)'
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
NEW="$WORK/wheels"
mkdir -p "$NEW" "$WORK/sdist" "$WORK/src"

echo "[gpu_wheels] build tools (setuptools, wheel) in a scratch venv"
"$PY" -m venv "$WORK/venv"
VPIP=("$WORK/venv/bin/python" -m pip --disable-pip-version-check)
"${VPIP[@]}" install -q -c "$ROOT/requirements/build.txt" setuptools wheel

echo "[gpu_wheels] downloading wheels for CPython $PYV manylinux x86_64"
grep -vE "$BUILT" "$LIST" > "$WORK/download.txt"
"${VPIP[@]}" download -q --no-deps --only-binary=:all: --implementation cp \
  --python-version "$PYV" --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 \
  --platform manylinux2014_x86_64 -c "$ROOT/requirements/runtime.txt" \
  -c "$ROOT/requirements/mmagic.txt" -r "$WORK/download.txt" -d "$NEW"

MMCV="$(sed -n 's/^mmcv-lite==\([0-9.]*\).*/\1/p' "$LIST")"
echo "[gpu_wheels] building mmcv $MMCV without ops (MMCV_WITH_OPS=0)"
"${VPIP[@]}" download -q --no-deps --no-binary :all: --no-build-isolation "mmcv==$MMCV" \
  -d "$WORK/sdist"
MMCV_WITH_OPS=0 "${VPIP[@]}" wheel -q --no-deps --no-build-isolation \
  "$WORK/sdist/mmcv-$MMCV.tar.gz" -w "$NEW"

echo "[gpu_wheels] building bigfix_mm from $ROOT"
cp -r "$ROOT/setup.py" "$ROOT/bigfix_mm" "$WORK/src/"
"${VPIP[@]}" wheel -q --no-deps --no-build-isolation "$WORK/src" -w "$NEW"

SIZE=$(du -sb "$NEW" | cut -f1)
if [ "$SIZE" -gt $(( LIMIT_MIB * 1024 * 1024 )) ]; then
  echo "[gpu_wheels] error: the wheels take $(( SIZE / 1024 / 1024 )) MiB, over the" \
       "${LIMIT_MIB} MiB that travel with the working tree; $DEST is left as it was." >&2
  exit 2
fi
rm -rf "$DEST"
mv "$NEW" "$DEST"
ls -1 "$DEST"
echo "[gpu_wheels] $(ls "$DEST" | wc -l) wheels, $(( SIZE / 1024 )) KiB in $DEST"

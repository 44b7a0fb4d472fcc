#!/usr/bin/env bash
# Training on a Slurm cluster: one task per GPU, MMEngine's slurm launcher.
#   GPUS=16 bash tools/slurm_train.sh PARTITION JOB_NAME CONFIG [WORK_DIR] [train.py args]
# GPUS (total, default 8), GPUS_PER_NODE (8), CPUS_PER_TASK (5) and SRUN_ARGS
# (extra srun options, e.g. "--quotatype=auto") come from the environment.
# Resume an interrupted job by running it again with --resume.
# BIGFIX_TOOL=test runs tools/test.py instead (tools/slurm_test.sh; no WORK_DIR argument).
set -euo pipefail
PARTITION=$1
JOB_NAME=$2
CONFIG=$3
shift 3
WORK_DIR=""
TOOL=${BIGFIX_TOOL:-train}
if [ "$TOOL" = train ] && [ "$#" -gt 0 ] && [ "${1#-}" = "$1" ]; then WORK_DIR=$1; shift; fi
GPUS=${GPUS:-8}
GPUS_PER_NODE=${GPUS_PER_NODE:-8}
CPUS_PER_TASK=${CPUS_PER_TASK:-5}
SRUN_ARGS=${SRUN_ARGS:-""}
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON=${PYTHON:-python}
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
# shellcheck disable=SC2086
srun -p "$PARTITION" --job-name="$JOB_NAME" --gres=gpu:"$GPUS_PER_NODE" \
    --ntasks="$GPUS" --ntasks-per-node="$GPUS_PER_NODE" --cpus-per-task="$CPUS_PER_TASK" \
    --kill-on-bad-exit=1 $SRUN_ARGS \
    "$PYTHON" -u "$ROOT/tools/$TOOL.py" "$CONFIG" ${WORK_DIR:+--work-dir "$WORK_DIR"} \
    "$@" --launcher slurm

#!/usr/bin/env bash
# Evaluation on a Slurm cluster: one task per GPU, MMEngine's slurm launcher
# (tools/slurm_train.sh running tools/test.py; the same GPUS, GPUS_PER_NODE, CPUS_PER_TASK
# and SRUN_ARGS).
#   GPUS=8 bash tools/slurm_test.sh PARTITION JOB_NAME CONFIG CHECKPOINT [test.py args]
set -euo pipefail
BIGFIX_TOOL=test exec bash "$(dirname "${BASH_SOURCE[0]}")/slurm_train.sh" "$@"

#!/usr/bin/env bash
# Multi-process evaluation with torchrun and MMEngine's pytorch launcher (tools/dist_train.sh
# running tools/test.py).
#   bash tools/dist_test.sh CONFIG CHECKPOINT GPUS [test.py args]
# Multi-node: set NNODES, NODE_RANK, MASTER_ADDR (and PORT) as for tools/dist_train.sh.
set -euo pipefail
CONFIG=$1
CHECKPOINT=$2
GPUS=$3
shift 3
BIGFIX_TOOL=test exec bash "$(dirname "${BASH_SOURCE[0]}")/dist_train.sh" "$CONFIG" "$GPUS" \
    "$CHECKPOINT" "$@"

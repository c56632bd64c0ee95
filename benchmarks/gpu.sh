#!/usr/bin/env bash
# The batch rows of the benchmark with the batches (and augkit's generator) on the GPU, at the
# default thread count; single images stay on the CPU, so those rows are left out. Writes
# runs/bench-gpu/results.md and results.json. About 3 minutes; stopped after 8 in any case.
#
#   benchmarks/gpu.sh                      # PYTHON=/path/to/python to choose the interpreter
#   benchmarks/gpu.sh --quick              # extra options go to benchmarks/run.py
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python}
if [ "$("$PYTHON" -c 'import torch; print(int(torch.cuda.is_available()))')" != 1 ]; then
    echo "gpu.sh: torch sees no CUDA device; nothing to run"
    exit 0
fi
exec timeout 480 "$PYTHON" benchmarks/run.py --device cuda --threads default \
    --only "float batch,uint8 batch,MixUp,CutMix,Epoch: ImageFolder JPEG,Decode only" --out runs/bench-gpu "$@"

#!/usr/bin/env bash
# The JointFormer variant's four propagation modes (what reference tokens attend to) on a short training budget:
# each mode trains ITER iterations from the shipped lwl-mobilenetv2.pt (decoder copied, token layers fresh; same data,
# seed and schedule), then scores the five validation clips. Results: runs/jf-mode-<mode>/validate.json.
#   bash benchmarks/jointformer_modes.sh [ITER] [THREADS]
set -euo pipefail
ITER=${1:-150}
THREADS=${2:-1}
cd "$(dirname "$0")/.."
for mode in self references self+current references+current; do
  out="runs/jf-mode-${mode/+/-}"
  if [ ! -f "$out/final.pt" ]; then
    resume=()
    [ -f "$out/train_state.pt" ] && resume=(--resume) || resume=(--init resources/weights/lwl-mobilenetv2.pt)
    python -m llb_core train --recipe jointformer "${resume[@]}" --out "$out" --threads "$THREADS" \
      --set "reference_mode=\"$mode\"" --set "iterations=$ITER" --set "milestones=[$((ITER * 3 / 4))]"
  fi
  [ -f "$out/validate.json" ] || OMP_NUM_THREADS=$THREADS python benchmarks/validate.py \
    --weights "$out/final.pt" --json "$out/validate.json"
done

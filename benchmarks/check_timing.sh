#!/bin/bash
# Times `modbench check` (smoke tier, every task each supports) on two submissions a new user
# would write: a stock nn.Transformer seq2seq and a torchvision ResNet-18 with one input
# channel. Issue 22's target: under 2 minutes each on the 2-core dev CPU, nothing else running.
set -e
cd "$(dirname "$0")/.."
export HF_HUB_OFFLINE=1
for submission in stock_transformer resnet18; do
  start=$(date +%s.%N)
  modbench check "benchmarks/check_timing/$submission" || true
  echo "$submission: $(python3 -c "print(round($(date +%s.%N) - $start, 1))") s"
done

#!/bin/bash
# Issue 24's GPU check: one table (noise stream GPU = CPU, paper-size steps on CUDA, paper-tier
# minutes extrapolated, a smoke run per task family with --device cuda). Fits in 8 minutes on
# one H100/H200-class GPU. Run after the README's install command:
#   python3 -m pip install -e . && bash benchmarks/gpu_check.sh
set -e
cd "$(dirname "$0")/.."
export HF_HUB_OFFLINE=1 MODBENCH_BENCH_THREADS=1
timeout 480 "${PYTHON:-python3}" benchmarks/gpu_check.py "$@"

"""The GPU path checked and timed in one table (issue 24; run by benchmarks/gpu_check.sh).

1. the counter-based mask noise on CUDA equals the CPU kernels' numbers bit for bit, and the
   device mask samples equal the fused CPU kernels' masks;
2. per architecture at paper size on CUDA: the plain step, the mask step and its floor (the mask
   step with noise and mask kernels replaced by weight copies), median ms, and mask / floor
   (target ≤ 1.3);
3. a paper-tier run's time extrapolated from those steps (train steps × plain + mask steps ×
   mask; evaluation not included) for addmul FNN and SCAN LSTM and Transformer (targets 15 and
   60 minutes);
4. a smoke-tier `modbench run --device cuda` per task family: status and seconds.

    python benchmarks/gpu_check.py [--device cuda:0] [--steps 20]
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import torch
from tabulate import tabulate

sys.path.insert(0, str(Path(__file__).resolve().parent))
import test_step as bench  # noqa: E402  (the CPU benchmark suite's set-ups and floor)

from modbench import devices, harness  # noqa: E402
from modbench.archs import ARCHS  # noqa: E402
from modbench.masking import FrozenModel, MaskNoise, init_logits, mask_step  # noqa: E402
import modbench.masking.trainer as trainer  # noqa: E402
from modbench.masking.gumbel import masked_weights  # noqa: E402
from modbench.optim import adam  # noqa: E402
from modbench.tasks import TASKS  # noqa: E402
from modbench.training import weight_step  # noqa: E402

EXTRAPOLATED = [("fnn", "addmul", 15), ("lstm_seq2seq", "scan", 60), ("transformer_seq2seq", "scan", 60)]
SMOKE = [("fnn", "addmul"), ("lstm", "double_add"), ("fnn", "transfer"), ("lstm_seq2seq", "scan"),
         ("transformer_seq2seq", "math_sort"), ("cnn", "mask_stability"), ("resnet", "class_removal")]


def stream_equality(device: torch.device) -> list[list]:
    """Noise numbers and mask samples, CUDA against the CPU kernels."""
    noise = MaskNoise(12345).draw((4, 1_000_003))
    same_numbers = torch.equal(noise.materialise("cpu"), noise.materialise(device).cpu())
    logits = torch.randn(1_000_003, generator=torch.Generator().manual_seed(0)) * 3
    weight = torch.randn(1_000_003, generator=torch.Generator().manual_seed(1))
    cpu = masked_weights(logits, weight, noise)
    gpu = masked_weights(logits.to(device), weight.to(device), noise)
    same_masks = all(torch.equal(c != 0, g.cpu() != 0) for c, g in zip(cpu, gpu))
    return [["noise stream, 4 × 1,000,003 uniforms", "bit-identical" if same_numbers else "DIFFERENT"],
            ["mask samples W ⊙ 1[u > σ(−l)]", "bit-identical" if same_masks else "DIFFERENT"]]


def _sync() -> None:
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def _time(fn, steps: int) -> float:
    """Median ms of `fn` over `steps` calls after 3 warm-up calls, the device synchronised."""
    for _ in range(3):
        fn()
    _sync()
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        fn()
        _sync()
        times.append((time.perf_counter() - start) * 1e3)
    return sorted(times)[len(times) // 2]


class _CopiesOnlyOnDevice(bench._CopiesOnly):
    @staticmethod
    def backward(ctx, *grads):
        return grads[0].new_zeros(ctx.logit_shape), None, None, None, None


def step_times(arch: str, device: torch.device, steps: int) -> dict[str, float]:
    task, model, budget, batch = bench._setup(arch, "paper")
    model, batch = model.to(device), devices.move(batch, device)
    loss = lambda fn, b: task.loss(fn, b, None)  # noqa: E731
    times = {}
    model.train()
    optimiser = adam(model.parameters(), 1e-3)
    times["plain"] = _time(lambda: weight_step(model, optimiser, loss, batch, 1.0), steps)
    cfg = budget.mask
    for kind in ("mask", "floor"):
        frozen = FrozenModel(model.eval(), budget.mask_filter.select(model), vectorise=ARCHS.get(arch).vmap_mask_samples)
        logits = init_logits(frozen, cfg)
        optimiser = adam(logits.values(), cfg.lr)
        noise = MaskNoise(1)
        original = trainer.masked_weights
        if kind == "floor":
            trainer.masked_weights = lambda l, w, n, tau=1.0, stacked=False: _CopiesOnlyOnDevice.apply(l, w, n, tau, stacked)
        try:
            times[kind] = _time(lambda: mask_step(frozen, logits, optimiser, loss, batch, cfg, noise), steps)
        finally:
            trainer.masked_weights = original
    return times


def paper_minutes(arch: str, task: str, times: dict[str, float]) -> tuple[int, int, float]:
    run = harness.prepare(harness.RunSpec(arch, task, "paper", 0, device="cpu"))
    trainings = 1 + len(getattr(run.task, "sysgen_trainings", ()))
    train_steps = run.budget.train.steps * trainings
    mask_steps = run.budget.mask.steps * run.task.mask_stages
    return train_steps, mask_steps, (train_steps * times["plain"] + mask_steps * times["mask"]) / 60e3


def smoke_run(arch: str, task: str, device: torch.device) -> list:
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "modbench", "run", "--arch", arch, "--task", task,
                               "--tier", "smoke", "--source", TASKS.get(task).smoke_source, "--out", out,
                               "--quiet", "--device", str(device)],
                              capture_output=True, text=True)
        seconds = time.perf_counter() - start
        status = "ok" if done.returncode == 0 else (done.stderr.strip().splitlines() or ["failed"])[-1][:100]
    return [f"{task} / {arch}", status, f"{seconds:.0f}"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--steps", type=int, default=20, help="timed steps per case (median)")
    parser.add_argument("--dry-run-on-cpu", action="store_true",
                        help="run every part on the CPU (to test the script where no GPU is; timings are the CPU's)")
    args = parser.parse_args()
    device = devices.resolve("cpu" if args.dry_run_on_cpu else args.device)
    if device.type != "cuda" and not args.dry_run_on_cpu:
        print(f"--device {args.device} resolved to {device}: this script checks a GPU", file=sys.stderr)
        return 2
    warnings.filterwarnings("ignore", message="RNN module weights")  # functional_call's weights are not one chunk
    info = devices.describe(device)
    print(f"# GPU check: {info['gpu'] or 'CPU DRY RUN'}, {info['gpu_memory_gib']} GiB, CUDA {info['cuda']}, "
          f"torch {torch.__version__}, {time.strftime('%Y-%m-%d')}\n")
    print(tabulate(stream_equality(device), ["GPU vs CPU", "result"], tablefmt="github"), "\n")
    rows, measured = [], {}
    for arch in bench.TASK_OF:
        measured[arch] = t = step_times(arch, device, args.steps)
        rows.append([arch, f"{t['plain']:.2f}", f"{t['mask']:.2f}", f"{t['floor']:.2f}", f"{t['mask'] / t['floor']:.2f}"])
    print(tabulate(rows, ["paper size", "plain ms", "mask ms", "floor ms", "mask / floor (≤ 1.3)"], tablefmt="github"), "\n")
    rows = []
    for arch, task, target in EXTRAPOLATED:
        train_steps, mask_steps, minutes = paper_minutes(arch, task, measured[arch])
        rows.append([f"{task} / {arch}", f"{train_steps:,}", f"{mask_steps:,}", f"{minutes:.1f}", f"≤ {target}"])
    print(tabulate(rows, ["paper tier", "plain steps", "mask steps", "minutes (steps only)", "target"],
                   tablefmt="github"), "\n")
    print(tabulate([smoke_run(a, t, device) for a, t in SMOKE], ["smoke run --device cuda", "status", "s"],
                   tablefmt="github"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

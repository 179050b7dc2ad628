"""sha256 of the masks and scores of one smoke run per (task, architecture): run it at two commits
to show a change leaves CPU numbers alone (issue 24: "same masks' sha256 before and after").

    python benchmarks/smoke_digests.py > before.txt   # at the old commit
    python benchmarks/smoke_digests.py > after.txt && diff before.txt after.txt
"""
from __future__ import annotations

import hashlib
import json
import sys
import tempfile
from pathlib import Path

from modbench import harness
from modbench.masking.maskset import save_masks
from modbench.tasks import TASKS

PAIRS = [("addmul", "fnn"), ("addmul", "lstm"), ("double_add", "fnn"), ("transfer", "fnn"),
         ("scan", "lstm_seq2seq"), ("scan", "transformer_seq2seq"), ("math_sort", "transformer_seq2seq"),
         ("class_removal", "cnn"), ("class_removal", "resnet"), ("mask_stability", "cnn")]


def digests(task: str, arch: str) -> tuple[str, str]:
    spec = harness.RunSpec(arch, task, "smoke", 0, source=TASKS.get(task).smoke_source)
    result, stages = harness.run_one(harness.prepare(spec))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "masks.safetensors"
        save_masks(path, stages)
        masks = hashlib.sha256(path.read_bytes()).hexdigest()
    numbers = json.dumps([result["scores"], result["accuracy"], result["nulls"]], sort_keys=True)
    return masks, hashlib.sha256(numbers.encode()).hexdigest()


if __name__ == "__main__":
    for task, arch in PAIRS if len(sys.argv) < 2 else [tuple(p.split("/")) for p in sys.argv[1:]]:
        masks, numbers = digests(task, arch)
        print(f"{task}/{arch} masks {masks[:16]} numbers {numbers[:16]}", flush=True)

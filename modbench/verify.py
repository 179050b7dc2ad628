"""`modbench verify RESULT`: re-run a result's recorded configuration with the code that wrote it
and say whether its scores and masks reproduce, so a forged result is detectable by anyone.

The code is the same when the package's source hash matches the recorded one (the run happens
in this process); else the recorded commit, when it was clean and this repository has it, is
checked out in a temporary git worktree and run there. The hardware is compared too: results
reproduce bit for bit on one CPU type, torch build and thread count (README, "What reproduces
where"), so a difference on other hardware is reported as such, not as a forgery.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from modbench import provenance, results
from modbench.errors import ModbenchError

# What must match for bit-identical numbers (environment fields).
HARDWARE_FIELDS = ("cpu", "vector_extensions", "gpu", "torch", "device")  # threads: set to the recorded count


@dataclass
class Verdict:
    reproduced: bool | None  # None: could not verify
    lines: list[str] = field(default_factory=list)


def overrides_of(config: dict) -> tuple[tuple[str, object], ...]:
    """Every recorded configuration leaf as a `--set` override: the run resolves to exactly the
    recorded configuration whatever the tier's defaults are at the code that runs it."""
    return tuple((f"{section}.{key}", value) for section in ("train", "mask", "mask_filter", "arch_size")
                 for key, value in config[section].items())


def hardware_differences(recorded: dict) -> list[str]:
    here = {**provenance.environment("cpu", recorded.get("workers", 1)), **_device_here(recorded)}
    return [f"{name}: recorded {recorded.get(name)!r}, here {here.get(name)!r}"
            for name in HARDWARE_FIELDS if name in recorded and recorded.get(name) != here.get(name)]


def _device_here(recorded: dict) -> dict:
    from modbench import devices

    try:
        return devices.describe(devices.resolve(recorded.get("device", "cpu")))
    except ModbenchError:
        return {"device": "unavailable", "gpu": None}


def _same_code(recorded: dict) -> bool:
    return recorded.get("source_sha256") is not None and recorded["source_sha256"] == provenance.source_sha256()


def _rerun_here(result: dict, arch: str, out: Path) -> dict:
    import torch

    from modbench.harness import RunSpec, prepare, run_and_save

    env = result["environment"]
    spec = RunSpec(arch, result["task"]["name"], result["tier"], result["seeds"]["run"], overrides_of(result["config"]),
                   result["task"]["source"], env.get("workers", 1), env.get("device", "cpu"))
    run = prepare(spec)
    if run.run_id != result["run_id"]:
        raise ModbenchError(f"the recorded configuration resolves to another run here (run id {run.run_id[:12]}, "
                            f"recorded {result['run_id'][:12]}): the architecture's source or the data differ")
    before = torch.get_num_threads()
    torch.set_num_threads(env["threads"])
    try:
        return run_and_save(run, out)
    finally:
        torch.set_num_threads(before)


def _rerun_at_commit(result: dict, arch: str, commit: str, out: Path) -> dict:
    """The recorded commit's `modbench run`, in a temporary worktree of this repository."""
    repo = provenance.SOURCE_DIR.parent
    with tempfile.TemporaryDirectory(prefix="modbench-verify-") as tree:
        add = subprocess.run(["git", "-C", str(repo), "worktree", "add", "--detach", tree, commit],
                             capture_output=True, text=True)
        if add.returncode != 0:
            raise ModbenchError(f"cannot check out commit {commit[:12]} ({add.stderr.strip().splitlines()[-1:]}); "
                                "verify it from a clone that has that commit")
        try:
            sets = [a for key, value in overrides_of(result["config"]) for a in ("--set", f"{key}={json.dumps(value)}")]
            env = result["environment"]
            command = [sys.executable, "-c", "import sys; from modbench.cli import main; sys.exit(main(sys.argv[1:]))",
                       "run", "--arch", arch, "--task", result["task"]["name"], "--tier", result["tier"],
                       "--seeds", str(result["seeds"]["run"]), "--out", str(out), "--source", result["task"]["source"],
                       "--workers", str(env.get("workers", 1)), "--quiet", *sets]
            subprocess.run(command, cwd=tree, env={**os.environ, "PYTHONPATH": tree}, capture_output=True, text=True)
        finally:
            subprocess.run(["git", "-C", str(repo), "worktree", "remove", "--force", tree], capture_output=True)
    found = list(out.rglob(results.RESULT_FILE))
    if not found:
        raise ModbenchError(f"the run at commit {commit[:12]} wrote no result")
    return results.read_json(found[0])


def compare(recorded: dict, rerun: dict) -> tuple[bool, list[str]]:
    """Whether the re-run gave the recorded scores and masks, and the lines saying so."""
    if rerun.get("status") != "ok":
        return False, [f"the re-run failed: {rerun.get('error')}"]
    lines, same = [], True
    masks = (recorded["masks"] or {}).get("sha256") == (rerun["masks"] or {}).get("sha256")
    lines.append(f"masks: {'the same sha256' if masks else 'DIFFER'} ({(recorded['masks'] or {}).get('sha256', '')[:12]})")
    same &= masks
    scores, again = recorded["scores"] or {}, rerun.get("scores") or {}
    differing = [s for s in scores if scores[s] != again.get(s)]
    lines.append(f"scores: {len(scores) - len(differing)} of {len(scores)} equal"
                 + "".join(f"; {s} recorded {scores[s]!r}, re-run {again.get(s)!r}" for s in differing[:5]))
    return same and not differing, lines


def verify(path: Path, arch_path: str | None = None) -> Verdict:
    """Re-run the result at `path` (a submission's result needs its folder, `arch_path`)."""
    result = results.load(path)
    if result["status"] != "ok":
        return Verdict(None, [f"{path}: a failed run; nothing to verify"])
    code, arch = result["modbench"], arch_path or result["architecture"]["name"]
    differences = hardware_differences(result["environment"])
    lines = [f"hardware: {'the same as recorded' if not differences else 'DIFFERS: ' + '; '.join(differences)}"]
    with tempfile.TemporaryDirectory(prefix="modbench-verify-out-") as out:
        if _same_code(code):
            lines.insert(0, f"code: the recorded source ({code['source_sha256'][:12]}), run here")
            rerun = _rerun_here(result, arch, Path(out))
        elif code.get("git_commit") and code.get("git_dirty") is False:
            lines.insert(0, f"code: commit {code['git_commit'][:12]}, run in a temporary worktree")
            rerun = _rerun_at_commit(result, arch, code["git_commit"], Path(out))
        else:
            why = "it was computed from uncommitted changes" if code.get("git_dirty") else "it records no commit"
            return Verdict(None, [f"cannot verify {path}: {why}, and this checkout's source differs from it"])
    same, compared = compare(result, rerun)
    lines += compared
    if same:
        lines.append("REPRODUCED bit for bit")
    elif differences:
        lines.append("NOT REPRODUCED, on other hardware: numbers move across CPU types and builds (README, "
                     "\"What reproduces where\"); verify on the recorded hardware to tell a forgery")
    else:
        lines.append("NOT REPRODUCED on the recorded code and hardware: the file does not hold what this run computes")
    return Verdict(same, lines)

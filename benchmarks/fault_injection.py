"""Issue 25's fault-injection cases in one table: kill -9 at several moments, concurrent writers,
corrupt, hostile and forged files. Each case says what must happen and what did.

    python benchmarks/fault_injection.py        # about 2 minutes on the 2-core dev CPU
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tabulate import tabulate

from modbench import results
from modbench.schema import content_digest

RUN = [sys.executable, "-m", "modbench", "run", "--arch", "fnn", "--task", "addmul", "--tier", "smoke", "--quiet",
       "--workers", "1", "--device", "cpu", "--set", "train.steps=300", "--set", "mask.steps=150"]
FOLDER = Path("addmul/fnn/smoke/seed0")


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "modbench", *args], capture_output=True, text=True)


def leftovers(out: Path) -> list[str]:
    return sorted(p.name for p in out.rglob("*") if p.name.endswith(".tmp"))


def killed_at(seconds: float, out: Path) -> list:
    """kill -9 a run after `seconds`, then rerun: the rerun must finish one valid result."""
    process = subprocess.Popen([*RUN, "--out", str(out)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(seconds)
    process.send_signal(signal.SIGKILL)
    process.wait()
    half = [p.name for p in (out / FOLDER).glob("*") if p.is_file()] if (out / FOLDER).exists() else []
    rerun = subprocess.run([*RUN, "--out", str(out)], capture_output=True, text=True)
    loaded = results.load(out / FOLDER / "result.json")
    ok = rerun.returncode == 0 and loaded["status"] == "ok" and results.masks_intact(out / FOLDER, loaded) is True
    return [f"kill -9 after {seconds:g} s, then rerun", "rerun finishes one valid result and its masks",
            f"left {half or 'nothing'}; rerun rc {rerun.returncode}, {loaded['status']}, tmp files {leftovers(out)}",
            ok and not leftovers(out)]


def concurrent(out: Path) -> list:
    first = subprocess.Popen([*RUN, "--out", str(out)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    time.sleep(0.5)
    second = subprocess.run([*RUN, "--out", str(out)], capture_output=True, text=True)
    first.wait()
    loaded = results.load(out / FOLDER / "result.json")
    waited = "waiting for it" in second.stderr + (first.stderr.read() if first.stderr else "")
    ok = first.returncode == second.returncode == 0 and results.masks_intact(out / FOLDER, loaded) is True
    return ["two writers of one run at once", "one computes, the other waits and keeps its result",
            f"rc {first.returncode}/{second.returncode}, a writer waited: {waited}, masks intact, tmp {leftovers(out)}",
            ok and waited and not leftovers(out)]


def refused(name: str, path: Path, expect: str) -> list:
    done = cli("validate", str(path))
    line = done.stdout.strip()
    ok = done.returncode == 1 and expect in line and len(line.splitlines()) == 1 and "Traceback" not in done.stderr
    return [name, f"one line naming '{expect}'", line.split(": ", 1)[-1][:90], ok]


def main() -> int:
    rows = []
    with tempfile.TemporaryDirectory() as root:
        root = Path(root)
        for i, seconds in enumerate((1.0, 3.0, 6.0)):
            rows.append(killed_at(seconds, root / f"kill{i}"))
        rows.append(concurrent(root / "concurrent"))
        good_folder = root / "kill0" / FOLDER
        good = json.loads((good_folder / "result.json").read_text())

        def file_with(name: str, text: str) -> Path:
            path = root / "files" / name / "result.json"
            path.parent.mkdir(parents=True)
            path.write_text(text)
            return path

        def sealed(change) -> str:
            result = json.loads(json.dumps(good))
            change(result)
            result["integrity"] = {"content_sha256": content_digest(result)}
            return json.dumps(result)

        rows.append(refused("truncated JSON", file_with("cut", json.dumps(good)[:300]), "not valid JSON"))
        rows.append(refused("200,000-deep nesting", file_with("deep", "[" * 200_000 + "]" * 200_000), "nested too deeply"))
        zero = root / "files" / "zero" / "result.json"
        zero.parent.mkdir(parents=True)
        zero.symlink_to("/dev/zero")
        rows.append(refused("result.json linked to /dev/zero", zero, "not a regular file"))
        rows.append(refused("score as the string \"0.5\"", file_with("str", sealed(lambda r: r["scores"].update(p_specialize="0.5"))), "has type str"))
        rows.append(refused("score true", file_with("bool", sealed(lambda r: r["scores"].update(p_specialize=True))), "is a boolean"))
        rows.append(refused("task name an absolute path", file_with("name", sealed(lambda r: r["task"].update(name="/etc/x"))), "not a plain name"))
        edited = json.loads(json.dumps(good))
        edited["scores"]["p_specialize"] = 1.0
        rows.append(refused("score edited by hand", file_with("edited", json.dumps(edited)), "integrity digest"))
        forged = root / "forged" / FOLDER
        forged.parent.mkdir(parents=True)
        subprocess.run(["cp", "-r", str(good_folder), str(forged)])
        (forged / "result.json").write_text(sealed(lambda r: r["scores"].update(p_specialize=0.999)))
        done = cli("verify", str(forged / "result.json"))
        rows.append(["forged score, digest recomputed", "verify: NOT REPRODUCED (exit 1)",
                     done.stdout.strip().splitlines()[-1][:90] if done.stdout.strip() else done.stderr[-90:],
                     done.returncode == 1 and "NOT REPRODUCED" in done.stdout])
        (forged / "result.json").write_text(json.dumps(good))
        (forged / "masks.safetensors").write_bytes(b"x" * 100)
        done = cli("leaderboard", str(root / "forged"), "--out", str(root / "board"))
        rows.append(["mask file truncated", "leaderboard refuses, naming the file", done.stderr.strip()[:90],
                     done.returncode == 2 and "mask file is not the one it recorded" in done.stderr])
    print(tabulate([[*r[:3], "yes" if r[3] else "NO"] for r in rows], ["case", "must", "observed", "ok"], tablefmt="github"))
    return 0 if all(r[3] for r in rows) else 1


if __name__ == "__main__":
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    raise SystemExit(main())

"""One writer per run: a second writer waits and keeps the first one's result; unique temporaries."""
import fcntl
import hashlib
import json
import threading
import time

from modbench import harness, io, results
from modbench.locks import LOCK_FILE
from modbench.harness import MASKS_FILE
from modbench.masking.maskset import save_masks


def test_a_second_writer_waits_for_the_lock_and_keeps_the_finished_result(tmp_path):
    run = harness.prepare(harness.RunSpec("fnn", "addmul", "smoke", 0))
    folder = run.spec.folder(tmp_path)
    folder.mkdir(parents=True)
    finished, stages = harness.run_one(run)
    finished["status"], finished["created_at"] = "ok", "first writer"
    save_masks(folder / MASKS_FILE, stages)  # a finished run: its result and its masks
    finished["masks"]["sha256"] = hashlib.sha256((folder / MASKS_FILE).read_bytes()).hexdigest()
    with open(folder / LOCK_FILE, "a") as handle:  # another process mid-run holds the lock
        fcntl.flock(handle, fcntl.LOCK_EX)

        def finish_then_release():
            time.sleep(0.5)
            results.write(folder / results.RESULT_FILE, finished)
            fcntl.flock(handle, fcntl.LOCK_UN)

        other = threading.Thread(target=finish_then_release)
        other.start()
        started = time.perf_counter()
        returned = harness.run_and_save(run, tmp_path)
        other.join()
    assert time.perf_counter() - started >= 0.5  # it waited
    assert returned["created_at"] == "first writer"  # and did not run again or overwrite
    assert json.loads((folder / results.RESULT_FILE).read_text())["created_at"] == "first writer"


def test_stale_temporaries_of_a_killed_writer_are_removed_and_new_ones_are_unique(tmp_path):
    run = harness.prepare(harness.RunSpec("fnn", "addmul", "smoke", 0))
    folder = run.spec.folder(tmp_path)
    folder.mkdir(parents=True)
    for stale in (".result.json.4242.tmp", ".masks.safetensors.tmp", "masks.safetensors.tmp"):
        (folder / stale).write_text("half written")
    result = harness.run_and_save(run, tmp_path)
    assert result["status"] == "ok"
    assert not list(folder.glob("*.tmp"))  # the temporaries of a killed writer are gone
    names = set()
    original = io.os.replace
    io.os.replace = lambda src, dst: (names.add(src), original(src, dst))[1]
    try:
        io.write_atomic(folder / "a.json", "{}")
        io.write_atomic(folder / "a.json", "{}")
    finally:
        io.os.replace = original
    assert len(names) == 2  # each write its own temporary name

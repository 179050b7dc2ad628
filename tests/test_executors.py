"""A grid through submitit's local executor gives the result files of the local executor, and
the same resume rules (finished runs are never submitted again)."""
import json

import pytest

from modbench.cli import main
from modbench.errors import ModbenchError
from modbench.executors import ClusterOptions
from modbench.run import run_grid

pytest.importorskip("submitit", reason="submitit is in the test extra; without it the cluster path cannot run")

COMPARED = ("run_id", "status", "seeds", "config", "scores", "accuracy", "layers", "sharing", "details")


def results(out):
    return {p.relative_to(out).as_posix(): json.loads(p.read_text()) for p in sorted(out.rglob("result.json"))}


def test_submitit_grid_equals_the_local_grid_and_resumes(tmp_path, capsys):
    local, cluster = tmp_path / "local", tmp_path / "cluster"
    assert run_grid(["fnn"], ["addmul", "double_add"], "smoke", [0, 1], local, show_progress=False) == 0
    options = ClusterOptions(cluster="local", folder=tmp_path / "jobs")
    assert run_grid(["fnn"], ["addmul", "double_add"], "smoke", [0, 1], cluster, show_progress=False,
                    executor="submitit", cluster=options) == 0
    a, b = results(local), results(cluster)
    assert len(a) == 4 and a.keys() == b.keys()
    for path in a:
        for key in COMPARED:
            assert a[path][key] == b[path][key], (path, key)
        assert a[path]["masks"]["sha256"] == b[path]["masks"]["sha256"]
    assert "submitted 4 run(s)" in capsys.readouterr().err
    # a rerun submits nothing: every run is finished
    assert run_grid(["fnn"], ["addmul", "double_add"], "smoke", [0, 1], cluster, show_progress=False,
                    executor="submitit", cluster=options) == 0
    err = capsys.readouterr().err
    assert "submitted" not in err and err.count("skipped (already finished)") == 4


def test_an_unknown_executor_is_named(tmp_path):
    with pytest.raises(ModbenchError, match="unknown executor 'ray'"):
        run_grid(["fnn"], ["addmul"], "smoke", [0], tmp_path, executor="ray")


def test_the_cluster_options_reach_the_cli(tmp_path, capsys):
    assert main(["run", "--arch", "fnn", "--task", "addmul", "--tier", "smoke", "--out", str(tmp_path), "--quiet",
                 "--executor", "submitit", "--cluster", "local", "--time-min", "5", "--threads", "1"]) == 0
    assert "submitted 1 run(s) to local" in capsys.readouterr().err
    assert json.loads((tmp_path / "addmul/fnn/smoke/seed0/result.json").read_text())["environment"]["threads"] == 1

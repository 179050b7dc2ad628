"""`modbench plot`: the figures each result supports, as real PNG files."""
import json

import pytest

from modbench import cli, harness, results
from modbench.io import safe_file_name
from modbench.schema import content_digest

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs")
    harness.run_and_save(harness.prepare(harness.RunSpec("fnn", "addmul", "smoke", 0)), out)
    return out


def test_every_figure_of_a_result_is_a_png(smoke_run, tmp_path, capsys):
    assert cli.main(["plot", str(smoke_run), "--out", str(tmp_path)]) == 0
    names = sorted(p.name for p in tmp_path.glob("*.png"))
    kinds = ("accuracy", "convergence", "mask_probabilities", "operation_confusion", "sharing")
    assert names == [f"addmul_fnn_smoke_seed0_{kind}.png" for kind in kinds]
    assert all((tmp_path / name).read_bytes().startswith(PNG_MAGIC) for name in names)
    assert len(capsys.readouterr().out.splitlines()) == 5


def test_a_result_without_histograms_skips_that_figure(smoke_run, tmp_path):
    path = smoke_run / "addmul/fnn/smoke/seed0/result.json"
    result = json.loads(path.read_text())
    del result["masks"]["keep_probability_histogram"]  # written by modbench before the histograms
    results.write(tmp_path / "old.json", result)
    assert cli.main(["plot", str(tmp_path / "old.json"), "--out", str(tmp_path / "figs")]) == 0
    assert not list((tmp_path / "figs").glob("*mask_probabilities.png"))
    assert len(list((tmp_path / "figs").glob("*.png"))) == 4


@pytest.mark.parametrize("hostile", ["/tmp/modbench-plot-escape/x", "../../escaped", ".hidden"])
def test_figures_stay_inside_out_whatever_names_a_result_holds(smoke_run, tmp_path, capsys, hostile):
    """PNG names came from the result's task/arch strings: an absolute path wrote beside it and
    '../' was a traceback. Such a name is now refused by the schema (even with a valid digest),
    and file names stay plain names whatever they are built from."""
    result = json.loads((smoke_run / "addmul/fnn/smoke/seed0/result.json").read_text())
    result["task"]["name"] = result["architecture"]["name"] = hostile
    result["integrity"] = {"content_sha256": content_digest(result)}
    (tmp_path / "hostile.json").write_text(json.dumps(result))
    figures = tmp_path / "figs"
    assert cli.main(["plot", str(tmp_path / "hostile.json"), "--out", str(figures)]) == 2
    assert "is not a plain name" in capsys.readouterr().err
    assert not list(tmp_path.rglob("*.png"))
    name = safe_file_name(hostile, "fnn", "quick")
    assert "/" not in name and not name.startswith(".")


def test_nothing_to_plot_is_an_error(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert cli.main(["plot", str(tmp_path / "empty"), "--out", str(tmp_path / "figs")]) == 2
    assert "no result.json under" in capsys.readouterr().err


def test_results_that_share_a_name_get_a_figure_each(smoke_run, tmp_path):
    """A β sweep holds one run per β with the same task, architecture, tier and seed: their
    figures overwrote each other until each was named by its folder."""
    import shutil

    sweep = tmp_path / "sweep"
    for beta in ("beta=1e-05", "beta=1e-04"):
        shutil.copytree(smoke_run / "addmul", sweep / beta / "addmul")
    assert cli.main(["plot", str(sweep), "--out", str(tmp_path / "figs")]) == 0
    names = {p.name for p in (tmp_path / "figs").glob("*.png")}
    assert len(names) == 10
    assert {n.split("_addmul_")[0] for n in names} == {"beta_1e-05", "beta_1e-04"}

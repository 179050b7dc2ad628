"""`modbench sweep`: the runs at several β on one network per seed, the density curve, its area,
and where the leaderboard and plot show them (modbench/sweep.py)."""
import json

import pytest

from modbench.cli import main
from modbench.errors import ModbenchError
from modbench.sweep import area_under, load_curve


def test_the_area_is_the_curves_mean_height_by_hand():
    # a line from (0.1, 0.2) to (0.3, 0.6): mean height 0.4, whatever the order of the points
    assert area_under([(0.3, 0.6), (0.1, 0.2)]) == pytest.approx(0.4)
    # a step in the middle: (0.2 · (0 + 1) / 2 + 0.2 · 1) / 0.4 = 0.75
    assert area_under([(0.0, 0.0), (0.2, 1.0), (0.4, 1.0)]) == pytest.approx(0.75)
    assert area_under([(0.1, 0.5), (0.2, None)]) is None  # one point with a value: no curve
    assert area_under([(0.1, 0.5), (0.1, 0.7)]) is None  # no span


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    out = tmp_path_factory.mktemp("sweep")
    assert main(["sweep", "--arch", "fnn", "--task", "addmul", "--tier", "smoke", "--betas", "1e-5,1e-1",
                 "--out", str(out), "--quiet", "--workers", "1", "--device", "cpu",
                 "--set", "mask.lr=0.1", "--set", "mask.steps=30"]) == 0
    return out


def test_a_sweep_trains_one_network_and_records_each_beta(sweep):
    curve = load_curve(sweep / "curve.json")
    assert [p["beta"] for p in curve["points"]] == [1e-5, 1e-1]
    assert len(list((sweep / ".networks").glob("*.safetensors"))) == 1
    runs = [json.loads((sweep / f"beta={b}" / "addmul/fnn/smoke/seed0/result.json").read_text()) for b in ("1e-05", "0.1")]
    assert [r["config"]["mask"]["beta"] for r in runs] == [1e-5, 0.1]
    assert runs[0]["accuracy"]["full"] == runs[1]["accuracy"]["full"]  # one network
    # more pressure, fewer weights: the mean density of the sub-function masks falls with β
    assert curve["points"][1]["density"] < curve["points"][0]["density"]
    expected = area_under([(p["density"], p["scores"]["shared_iou"]) for p in curve["points"]])
    assert curve["area_under_curve"]["shared_iou"] == pytest.approx(expected)


def test_the_board_lists_the_areas_and_plot_draws_the_curve(sweep, tmp_path):
    from pathlib import Path

    fixtures = Path(__file__).parent / "fixtures" / "results"
    assert main(["leaderboard", str(fixtures), "--curves", str(sweep), "--out", str(tmp_path / "board")]) == 0
    text = (tmp_path / "board" / "README.md").read_text()
    assert "## Modularity against density (β sweeps)" in text and "**addmul / fnn / smoke**: 2 β values" in text
    points = json.loads((sweep / "curve.json").read_text())["points"]
    unsettled = [f"{p['beta']:g}" for p in points if p["converged"] < p["seeds"]]  # smoke budgets rarely settle
    assert (f"Not every mask converged at β {', '.join(unsettled)}." if unsettled else "Every mask converged.") in text
    page = (tmp_path / "board" / "index.html").read_text()
    assert "<b>addmul / fnn / smoke</b>: 2 β values" in page and "<th>area under curve" in page
    assert main(["plot", str(sweep), "--out", str(tmp_path / "plots")]) == 0
    assert (tmp_path / "plots" / "addmul_fnn_smoke_density_curve.png").stat().st_size > 1000


def test_a_sweep_needs_two_betas_and_a_curve_file_its_keys(tmp_path, capsys):
    assert main(["sweep", "--arch", "fnn", "--task", "addmul", "--tier", "smoke", "--betas", "1e-4",
                 "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "at least two distinct β values" in err and err.count("\n") == 1
    (tmp_path / "curve.json").write_text('{"task": "addmul"}')
    with pytest.raises(ModbenchError, match="not a sweep curve"):
        load_curve(tmp_path / "curve.json")


def test_transfer_has_no_control_mask_so_its_curve_has_no_control_accuracy():
    from modbench.plot import curve_figure
    from modbench.sweep import _control_accuracy

    masked = {"accuracy": {"control": {"add": 0.9, "mul": 0.7, "full": 0.1}}, "convergence": {"reference_sets": ["add", "mul"]}}
    assert _control_accuracy(masked) == pytest.approx(0.8)  # the reference sets' mean, not every set's
    transfer = {"accuracy": {"task0": {"task0": 0.7}}, "convergence": {"reference_sets": []}}
    assert _control_accuracy(transfer) is None
    points = [{"beta": b, "density": d, "control_accuracy": None, "scores": {"task_accuracy": 0.7}}
              for b, d in ((1e-3, 0.05), (2e-3, 0.03))]
    fig = curve_figure({"points": points, "area_under_curve": {"task_accuracy": 0.7}})
    assert [line.get_label() for line in fig.axes[0].get_lines()] == ["task_accuracy"]


def test_a_beta_whose_masks_did_not_converge_is_marked_on_the_curve():
    """Such a point scores the step budget, not the masks' sparsity: the reader must see which."""
    from modbench.plot import curve_figure

    points = [{"beta": b, "density": d, "control_accuracy": 1.0, "seeds": 1, "converged": c, "scores": {"p_reuse": 0.1}}
              for b, d, c in ((1e-4, 0.05, 1), (2.5e-5, 0.08, 0))]
    labels = sorted(t.get_text() for t in curve_figure({"points": points, "area_under_curve": {"p_reuse": 0.1}}).axes[0].texts)
    assert labels == ["β 0.0001", "β 2.5e-05, 0/1 converged"]

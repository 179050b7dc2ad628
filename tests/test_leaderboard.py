"""Leaderboard and compare on the committed fixture tree (tests/fixtures/make_results.py):
hand-chosen scores, so every expectation below follows by hand."""
import csv
import io
import json
import shutil
from pathlib import Path
from typing import Callable

import pytest

from modbench import cli, results
from modbench.errors import ModbenchError
from modbench.leaderboard.collect import collect
from modbench.leaderboard.compare import compare
from modbench.leaderboard.tables import build

FIXTURES = Path(__file__).parent / "fixtures" / "results"
FILES = ("README.md", "leaderboard.csv", "leaderboard.tex", "index.html")


@pytest.fixture(scope="module")
def board():
    return build(collect([FIXTURES]))


def rows(board, task, score):
    return {r.arch: r for r in board.rows if r.task == task and r.score == score}


def test_estimates_and_tiers_follow_the_hand_chosen_scores(board):
    table = rows(board, "addmul", "p_specialize")
    assert table["fnn"].mean == pytest.approx(0.97) and table["lstm"].mean == pytest.approx(0.92)
    assert table["fnn"].iqm == pytest.approx((0.96 + 0.97 + 0.98) / 3)  # 5 seeds: one trimmed each side
    # unconverged has the highest values but masks that missed the criterion: shown, not ranked
    assert {a: r.tier for a, r in table.items()} == {"fnn": 1, "twin_fnn": 1, "lstm": 2, "routed_mlp": 3, "few_seeds": None,
                                                     "unconverged": None}
    assert (table["unconverged"].n_unconverged, table["unconverged"].mean) == (5, pytest.approx(1.0))
    for r in table.values():
        assert r.ci[0] <= r.mean <= r.ci[1]
    # lower tier for a lower score: p_reuse on double_add ranks the other way round
    assert {a: r.tier for a, r in rows(board, "double_add", "p_reuse").items()} == {
        "lstm": 1, "routed_mlp": 2, "fnn": 3, "twin_fnn": 3}


def test_entries_under_five_seeds_are_shown_not_ranked(board):
    few = rows(board, "addmul", "p_specialize")["few_seeds"]
    assert (few.n_seeds, few.tier) == (3, None) and few.mean == pytest.approx(0.99)
    partial = rows(board, "addmul", "p_specialize_removal")["routed_mlp"]  # one seed's score is null
    assert (partial.n_seeds, partial.n_null, partial.tier) == (4, 1, None)
    assert all("few_seeds" not in (p.a, p.b) for p in board.pairs)


def test_failed_runs_are_left_out_and_counted(board):
    assert [p.parts[-4] for p in board.collection.failed] == ["few_seeds"]
    assert "double_add" not in {r.task for r in board.rows if r.arch == "few_seeds"}


def test_holm_adjusts_across_the_whole_task_table(board):
    pairs = [p for p in board.pairs if p.task == "addmul"]
    assert len(pairs) == 6 + 3  # p_specialize: 4 ranked entries; removal: 3
    twins = [p for p in pairs if {p.a, p.b} == {"fnn", "twin_fnn"}]
    assert all(p.welch == 1.0 and p.difference == 0 for p in twins)  # same values: no difference


def test_friedman_groups_cover_the_architectures_that_share_cells(board):
    (group,) = board.groups
    assert group.archs == ["fnn", "lstm", "routed_mlp", "twin_fnn"]
    assert group.cells == [("addmul", "p_specialize"), ("double_add", "p_reuse"), ("double_add", "p_reuse_strict")]
    ranks = dict(zip(group.archs, group.result.average_ranks))
    # per cell, 1 = best: lstm 3,1,1; fnn and twin_fnn 1.5,3.5,2.5; routed_mlp 4,2,4
    assert ranks == pytest.approx({"lstm": 5 / 3, "fnn": 7.5 / 3, "twin_fnn": 7.5 / 3, "routed_mlp": 10 / 3})


def test_an_architecture_ranked_on_fewer_tasks_meets_the_others_on_those():
    # routed_mlp and twin_fnn on double_add only; fnn and lstm on addmul and double_add
    partial = build(collect([FIXTURES / "double_add", FIXTURES / "addmul" / "fnn", FIXTURES / "addmul" / "lstm"]))
    both, double_add = partial.groups
    assert (both.archs, both.result) == (["fnn", "lstm"], None)  # two architectures: no test
    assert double_add.archs == ["fnn", "lstm", "routed_mlp", "twin_fnn"]
    assert double_add.cells == [("double_add", "p_reuse"), ("double_add", "p_reuse_strict")]
    # per cell, 1 = best (see the test above): lstm 1, 1; fnn and twin_fnn 3.5, 2.5; routed_mlp 2, 4
    ranks = dict(zip(double_add.archs, double_add.result.average_ranks))
    assert ranks == pytest.approx({"lstm": 1.0, "fnn": 3.0, "twin_fnn": 3.0, "routed_mlp": 3.0})


def test_the_files_are_byte_identical_across_runs_and_complete(tmp_path, monkeypatch):
    for out in ("one", "two"):  # the same command line in two places
        (tmp_path / out).mkdir()
        monkeypatch.chdir(tmp_path / out)
        assert cli.main(["leaderboard", str(FIXTURES), "--out", "board"]) == 0
    for name in FILES:
        assert (tmp_path / "one/board" / name).read_bytes() == (tmp_path / "two/board" / name).read_bytes()
    tmp_path = tmp_path / "one" / "board"
    table = list(csv.DictReader(io.StringIO((tmp_path / "leaderboard.csv").read_text())))
    assert len(table) == 2 * 6 + 2 * 4  # addmul: 2 scores x 6 archs; double_add: 2 x 4
    markdown = (tmp_path / "README.md").read_text()
    assert "## addmul" in markdown and "## double_add" in markdown and "Friedman" in markdown
    assert " 4 (+1 null) " in markdown  # routed_mlp's p_specialize_removal: one seed not learned
    assert [r["null_seeds"] for r in table if r["arch"] == "routed_mlp" and r["score"] == "p_specialize_removal"] == ["1"]
    assert "\\toprule" in (tmp_path / "leaderboard.tex").read_text()
    assert "<table>" in (tmp_path / "index.html").read_text()


def test_adding_entries_changes_no_other_entrys_ci(board):
    alone = build(collect([FIXTURES / "addmul" / "fnn"]))
    assert {r.score: r.ci for r in alone.rows} == {r.score: r.ci for r in board.rows
                                                   if r.task == "addmul" and r.arch == "fnn"}


def _copy_with(tmp_path, change):
    tree = tmp_path / "tree"
    shutil.copytree(FIXTURES / "addmul" / "fnn", tree / "addmul" / "fnn")
    path = tree / "addmul/fnn/quick/seed0/result.json"
    result = json.loads(path.read_text())
    change(result)
    results.write(path, result)
    return tree


@pytest.mark.parametrize("change, message", [
    (lambda r: r.update(tier="smoke"), "results mix tiers"),
    (lambda r: r["task"].update(version=2), "addmul task versions"),
    (lambda r: r["config"].update(trainer_version=2), "trainer versions"),
    (lambda r: r["task"].update(fingerprints={"train": "another generator's data"}), "addmul data fingerprints"),
])
def test_results_that_must_not_be_pooled_are_refused(tmp_path, change, message):
    with pytest.raises(ModbenchError, match=message):
        collect([_copy_with(tmp_path, change)])


def test_one_seed_twice_is_refused(tmp_path):
    with pytest.raises(ModbenchError, match="seed 0 of fnn on addmul appears twice"):
        collect([FIXTURES / "addmul" / "fnn", FIXTURES / "addmul" / "fnn"])


def test_compare_against_itself_passes_and_finds_nothing(capsys):
    folder = str(FIXTURES / "addmul" / "fnn")
    assert cli.main(["compare", folder, folder, "--fail-if-worse"]) == 0
    assert "better on 0 and worse on 0 of 2 scores" in capsys.readouterr().out


def test_compare_fails_on_a_weaker_folder_only_with_the_gate():
    strong, weak = FIXTURES / "addmul" / "fnn", FIXTURES / "addmul" / "lstm"
    rows = {r.score: r for r in compare(strong, weak)}
    assert rows["p_specialize"].verdict == "worse" and rows["p_specialize"].difference == pytest.approx(-0.05)
    assert rows["p_specialize"].p_improvement == pytest.approx(0.0)  # every lstm seed below every fnn seed
    lo, hi = rows["p_specialize"].ci
    assert lo <= -0.05 <= hi < 0
    assert cli.main(["compare", str(strong), str(weak), "--fail-if-worse"]) == 1
    assert cli.main(["compare", str(strong), str(weak)]) == 0  # no gate: report only
    assert cli.main(["compare", str(weak), str(strong), "--fail-if-worse"]) == 0  # B better


def test_compare_refuses_sides_that_ran_on_different_data(tmp_path):
    other = tmp_path / "other"
    shutil.copytree(FIXTURES / "addmul" / "lstm", other)
    for path in other.rglob("result.json"):
        result = json.loads(path.read_text())
        result["task"]["fingerprints"] = {"train": "data of another source"}
        results.write(path, result)
    with pytest.raises(ModbenchError, match="ran task 'addmul' on different data"):
        compare(FIXTURES / "addmul" / "fnn", other)


def test_compare_needs_one_architecture_per_side():
    with pytest.raises(ModbenchError, match="holds 6 architectures for addmul"):
        compare(FIXTURES, FIXTURES / "addmul" / "fnn")


def _with_sharing(tmp_path, ious: dict[str, list[float]]) -> Path:
    """Copies of fixture architectures with a shared_iou score added, one value per seed."""
    for arch, values in ious.items():
        shutil.copytree(FIXTURES / "addmul" / arch, tmp_path / "addmul" / arch)
        for seed, value in enumerate(values):
            path = tmp_path / f"addmul/{arch}/quick/seed{seed}/result.json"
            result = json.loads(path.read_text())
            result["scores"]["shared_iou"] = value
            results.write(path, result)
    return tmp_path


def test_sharing_scores_are_described_not_ranked(tmp_path):
    tree = _with_sharing(tmp_path, {"fnn": [0.30, 0.31, 0.32, 0.29, 0.30], "lstm": [0.50, 0.52, 0.49, 0.51, 0.50]})
    board = build(collect([tree]))
    iou = rows(board, "addmul", "shared_iou")
    assert iou["lstm"].mean == pytest.approx(0.504) and {r.tier for r in iou.values()} == {None}
    assert all(p.score != "shared_iou" for p in board.pairs)
    assert cli.main(["leaderboard", str(tree), "--out", str(tmp_path / "board")]) == 0
    line = next(x for x in (tmp_path / "board/README.md").read_text().splitlines() if "shared_iou" in x and "lstm" in x)
    from modbench.leaderboard.render import HEADERS

    assert [cell.strip() for cell in line.split("|")][1 + HEADERS.index("tier")] == "n/a"


def test_a_sharing_difference_is_reported_but_never_gates(tmp_path):
    tree = _with_sharing(tmp_path, {"fnn": [0.30, 0.31, 0.32, 0.29, 0.30], "lstm": [0.50, 0.52, 0.49, 0.51, 0.50]})
    lstm, fnn = tree / "addmul/lstm", tree / "addmul/fnn"
    rows_ = {r.score: r for r in compare(lstm, fnn)}
    assert rows_["shared_iou"].verdict == "lower" and rows_["shared_iou"].difference == pytest.approx(-0.2)
    assert rows_["shared_iou"].p_improvement != rows_["shared_iou"].p_improvement  # NaN: no better direction
    assert rows_["p_specialize"].verdict == "better"
    assert cli.main(["compare", str(lstm), str(fnn), "--fail-if-worse"]) == 0


def _never_learned(tmp_path, nulls: int) -> Path:
    """The fnn fixture with p_specialize null (not learned) in its first `nulls` seeds."""
    folder = tmp_path / f"nulls{nulls}" / "addmul" / "fnn"
    shutil.copytree(FIXTURES / "addmul" / "fnn", folder)
    for seed in range(nulls):
        path = folder / f"quick/seed{seed}/result.json"
        result = json.loads(path.read_text())
        result["scores"]["p_specialize"] = None
        result["score_notes"]["p_specialize"] = "the network did not learn mul"
        results.write(path, result)
    return folder


def test_never_learning_what_a_always_learned_fails_the_gate(tmp_path, capsys):
    strong, lost = FIXTURES / "addmul" / "fnn", _never_learned(tmp_path, 5)
    row = {r.score: r for r in compare(strong, lost)}["p_specialize"]
    assert (row.verdict, row.seeds) == ("not learned", (5, 0, 0, 5))
    assert cli.main(["compare", str(strong), str(lost), "--fail-if-worse"]) == 1
    assert "5 / 0 (+5 null)" in capsys.readouterr().out
    assert {r.score: r for r in compare(lost, strong)}["p_specialize"].verdict == "learned"
    assert cli.main(["compare", str(lost), str(strong), "--fail-if-worse"]) == 0


def test_some_null_seeds_are_counted_and_do_not_gate_by_themselves(tmp_path):
    strong, partial = FIXTURES / "addmul" / "fnn", _never_learned(tmp_path, 2)
    row = {r.score: r for r in compare(strong, partial)}["p_specialize"]
    assert row.seeds == (5, 3, 0, 2) and row.verdict != "not learned"
    assert row.mean_b == pytest.approx(stats_mean_of_seeds(strong, [2, 3, 4]))


def test_a_side_without_values_is_shown_without_a_verdict_when_the_other_has_nulls(tmp_path, capsys):
    # DeepMind Mathematics at the quick tier: the Transformer has combination dependence in one
    # seed, the LSTM in none; the row must stay in the table, with no verdict and no gate.
    one_seed, none = _never_learned(tmp_path, 4), _never_learned(tmp_path / "b", 5)
    row = {r.score: r for r in compare(one_seed, none)}["p_specialize"]
    assert (row.verdict, row.seeds, row.gates) == ("", (1, 0, 4, 5), False)
    assert cli.main(["compare", str(one_seed), str(none), "--fail-if-worse"]) == 0
    assert "1 (+4 null) / 0 (+5 null)" in capsys.readouterr().out
    assert {r.score: r for r in compare(none, none)}["p_specialize"].seeds == (0, 0, 5, 5)


def stats_mean_of_seeds(folder: Path, seeds: list[int]) -> float:
    values = [json.loads((folder / f"quick/seed{s}/result.json").read_text())["scores"]["p_specialize"] for s in seeds]
    return sum(values) / len(values)


def _task_tree(root: Path, task: str, scores_of: dict[str, Callable[[int], dict]]) -> Path:
    """Five fixture seeds per architecture on `task`, with the scores `scores_of[arch](seed)`."""
    for arch, scores in scores_of.items():
        for seed in range(5):
            path = root / f"{task}/{arch}/quick/seed{seed}/result.json"
            result = json.loads((FIXTURES / f"addmul/fnn/quick/seed{seed}/result.json").read_text())
            kind = {"class_removal": "class_removal", "transfer": "transfer"}.get(task, result["task"]["kind"])
            result["task"] = {**result["task"], "name": task, "kind": kind}
            result["architecture"] = {**result["architecture"], "name": arch}
            result["scores"] = scores(seed)
            path.parent.mkdir(parents=True)
            results.write(path, result)
    return root


def test_class_removal_ranks_its_means_and_describes_each_class(tmp_path):
    """Per-class values are detail: ranking them would put 20 cells of one task into the Holm
    family and the Friedman test. The means over classes are ranked."""
    def scores(drop):
        return lambda seed: {"relative_drop/0": drop + seed / 100, "relative_drop": drop + seed / 100,
                             "other_target_share/0": 0.1, "other_target_share": 0.1 + seed / 100}
    board = build(collect([_task_tree(tmp_path, "class_removal", {"cnn": scores(0.9), "resnet": scores(0.5)})]))
    assert {r.tier for r in rows(board, "class_removal", "relative_drop/0").values()} == {None}
    assert {a: r.tier for a, r in rows(board, "class_removal", "relative_drop").items()} == {"cnn": 1, "resnet": 2}
    assert {p.score for p in board.pairs} == {"relative_drop", "other_target_share"}


def test_a_score_only_one_architecture_has_is_not_a_null_of_the_others(tmp_path):
    """Transfer scores are named by layer, so the FNN and the LSTM report different ones."""
    tree = _task_tree(tmp_path, "transfer", {
        "fnn": lambda seed: {"shared_fraction/layers.2.weight": 0.6, "task_accuracy": 0.69 + seed / 1000},
        "lstm": lambda seed: {"shared_fraction/output.weight": 0.9, "task_accuracy": 0.72 + seed / 1000}})
    board = build(collect([tree]))
    assert set(rows(board, "transfer", "shared_fraction/layers.2.weight")) == {"fnn"}
    assert set(rows(board, "transfer", "shared_fraction/output.weight")) == {"lstm"}
    assert set(rows(board, "transfer", "task_accuracy")) == {"fnn", "lstm"}


def test_hostile_names_are_escaped_in_markdown_csv_and_html(tmp_path):
    """Names come from result files: a | added a Markdown column and =... ran in a spreadsheet."""
    from modbench.leaderboard.render import csv_text, html_page, markdown

    hostile = "=cmd|x*[y](z)<b>"
    tree = tmp_path / "results"
    shutil.copytree(FIXTURES / "addmul" / "fnn", tree / "addmul" / "fnn")
    path = next(tree.rglob("result.json"))
    result = json.loads(path.read_text())
    result["architecture"]["name"] = hostile
    with pytest.raises(ModbenchError, match="is not a plain name"):  # the schema refuses such a file
        results.write(path, result)
    collection = collect([tree])  # and the tables escape whatever names reach them
    for entry in collection.entries:
        entry.arch = hostile
    board = build(collection)
    lines = markdown(board, "test").splitlines()
    row = next(line for line in lines if "cmd" in line and line.startswith("|"))
    header = next(line for line in lines if line.startswith("| score"))
    assert "\\|x" in row and "<b>" not in row and "\\[y\\]" in row
    assert row.count("|") - row.count("\\|") == header.count("|")  # no column added
    cells = list(csv.DictReader(io.StringIO(csv_text(board))))
    assert cells and all(c["arch"] == "'" + hostile for c in cells)
    page = html_page(board, "test")
    assert "&lt;b&gt;" in page and "<b>" not in page

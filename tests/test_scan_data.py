"""SCAN generated from its grammar: meaning, counts, splits, files, sources, cache and CLI.

Expected values come from Lake & Baroni (2018), Loula, Baroni & Lake (2018) and the project's
reference notes scan_facts.md (checked there against the upstream files), never from modbench.
"""
import re
import time
from collections import Counter

import datasets
import pytest

from modbench.cli import main
from modbench.data import (INPUT_WORDS, OUTPUT_TOKENS, SPLITS, all_commands, build_split, export_scan,
                           interpret, load_scan, scan_fingerprint)
from modbench.data import scan_source
from modbench.errors import ModbenchError

L, R, J, W, RUN, LOOK = "I_TURN_LEFT", "I_TURN_RIGHT", "I_JUMP", "I_WALK", "I_RUN", "I_LOOK"
PRIMS = ("walk", "look", "run", "jump")
LINE = re.compile(r"IN: [a-z]+( [a-z]+)* OUT: I_[A-Z_]+( I_[A-Z_]+)*")
# scan_facts.md §3-4: (train lines, train unique, test lines, |train ∪ test|).
SIZES = {
    "simple": (16728, 16728, 4182, 20910),
    "length": (16990, 16990, 3920, 20910),
    "addprim_jump": (14670, 13204, 7706, 20910),
    "addprim_turn_left": (21890, 19702, 1208, 20910),
    "jump_around_right": (18528, 18528, 1173, 19701),
    "around_right": (15225, 15225, 4476, 19701),
    "right": (15225, 15225, 4476, 19701),
    "opposite_right": (15225, 15225, 4476, 19701),
}


def has(phrase: str, command: str) -> bool:
    """Word-level phrase match (so 'turn left' is not found in 'return left')."""
    return re.search(rf"(^| ){phrase}( |$)", command) is not None


def n_actions(command: str) -> int:
    return len(interpret(command).split())


@pytest.fixture(scope="module")
def splits():
    return {name: build_split(name) for name in SPLITS}


@pytest.mark.parametrize("command, actions", [
    ("jump", [J]),
    ("jump left", [L, J]),
    ("turn left", [L]),
    ("turn left twice", [L, L]),
    ("jump thrice", [J, J, J]),
    ("turn opposite left", [L, L]),
    ("walk opposite right", [R, R, W]),
    ("turn around right", [R] * 4),
    ("jump around right", [R, J] * 4),
    ("jump opposite left and walk thrice", [L, L, J, W, W, W]),
    ("walk left thrice and run", [L, W] * 3 + [RUN]),
    ("run after walk", [W, RUN]),
    ("look right after turn opposite left twice", [L, L, L, L, R, LOOK]),
    ("jump opposite left after walk around left", [L, W, L, W, L, W, L, W, L, L, J]),  # scan_facts §2
])
def test_interpretation_of_hand_cases(command, actions):
    assert interpret(command) == " ".join(actions)


@pytest.mark.parametrize("command", ["", "turn", "fly", "Jump", "walk twice twice", "jump and",
                                     "twice", "walk and run and look", "walk opposite", "left walk",
                                     "jump around right left", "turn around"])
def test_commands_outside_the_grammar_are_one_line_errors(command):
    with pytest.raises(ModbenchError) as caught:
        interpret(command)
    assert "\n" not in str(caught.value) and "SCAN" in str(caught.value)


def test_vocabulary():
    assert sorted(INPUT_WORDS) == sorted("walk look run jump turn left right opposite around twice "
                                         "thrice and after".split())
    assert OUTPUT_TOKENS == (L, R, J, W, RUN, LOOK)
    commands = all_commands()
    assert {w for c in commands for w in c.split()} == set(INPUT_WORDS)
    assert {a for c in commands for a in interpret(c).split()} == set(OUTPUT_TOKENS)


def test_grammar_counts():
    commands = all_commands()
    assert len(commands) == len(set(commands)) == 20910
    words = [c.split() for c in commands]
    assert sum("and" not in w and "after" not in w for w in words) == 102
    assert sum("and" in w for w in words) == 10404
    assert sum("after" in w for w in words) == 10404
    assert min(map(len, words)) == 1 and max(map(len, words)) == 9
    assert not any(w[0] == "turn" and len(w) == 1 for w in words)


def test_output_length_distribution():
    lengths = Counter(n_actions(c) for c in all_commands())
    assert lengths == {1: 6, 2: 88, 3: 398, 4: 860, 5: 1184, 6: 1178, 7: 1104, 8: 1450, 9: 1256,
                       10: 1696, 11: 1072, 12: 1578, 13: 432, 14: 848, 15: 688, 16: 304, 17: 512,
                       18: 784, 19: 448, 20: 464, 21: 64, 22: 576, 24: 336, 25: 448, 26: 512,
                       27: 448, 28: 448, 30: 576, 32: 448, 33: 256, 36: 64, 40: 256, 48: 128}
    assert 23 not in lengths and max(lengths) == 48


def test_all_commands_is_the_grammars_order():
    commands = all_commands()
    assert commands == all_commands() and commands is not all_commands()
    kinds = ["single" if " and " not in c and " after " not in c else "and" if " and " in c else "after"
             for c in commands]
    assert kinds == ["single"] * 102 + ["and"] * 10404 + ["after"] * 10404


@pytest.mark.parametrize("name", list(SIZES))
def test_split_sizes(splits, name):
    train, test = splits[name]
    assert (len(train), len(set(train)), len(test), len(set(train) | set(test))) == SIZES[name]
    assert len(set(test)) == len(test) and not set(train) & set(test)
    assert set(train) | set(test) <= set(all_commands())


def test_split_names():
    assert sorted(SPLITS) == sorted(SIZES)


def test_length_split(splits):
    train, test = splits["length"]
    assert max(map(n_actions, train)) == 22 and min(map(n_actions, train)) == 1
    assert Counter(map(n_actions, test)) == {24: 336, 25: 448, 26: 512, 27: 448, 28: 448, 30: 576,
                                             32: 448, 33: 256, 36: 64, 40: 256, 48: 128}


def test_addprim_jump_split(splits):
    train, test = splits["addprim_jump"]
    with_jump = [c for c in train if "jump" in c.split()]
    assert set(with_jump) == {"jump"} and len(with_jump) * 10 == len(train) == 14670
    assert set(train) - {"jump"} == {c for c in all_commands() if "jump" not in c.split()}
    assert Counter(train)["jump"] == 1467 and Counter(train).most_common(2)[1][1] == 1
    assert set(test) == {c for c in all_commands() if "jump" in c.split()} - {"jump"}
    assert min(map(n_actions, test)) == 2 and max(map(n_actions, test)) == 48
    positions = [i for i, c in enumerate(train) if c == "jump"]
    assert positions[0] < len(train) // 4 and positions[-1] > 3 * len(train) // 4  # interleaved


def test_addprim_turn_left_split(splits):
    train, test = splits["addprim_turn_left"]
    assert Counter(train)["turn left"] == 2189 and len(train) == 21890
    assert not any(has("turn left", c) for c in train if c != "turn left")
    assert any(has("turn opposite left", c) for c in train) and any(has("turn around left", c) for c in train)
    assert all(has("turn left", c) for c in test) and "turn left" not in test
    assert min(map(n_actions, test)) == 2 and max(map(n_actions, test)) == 27


@pytest.mark.parametrize("name, held, dropped, test_lengths", [
    ("jump_around_right", ["jump around right"], "turn around right", (8, 48)),
    ("around_right", [f"{p} around right" for p in PRIMS], "turn around right", (8, 48)),
    ("right", [f"{p} right" for p in PRIMS], "turn right", (2, 30)),
    ("opposite_right", [f"{p} opposite right" for p in PRIMS], "turn opposite right", (3, 33)),
])
def test_template_splits(splits, name, held, dropped, test_lengths):
    train, test = splits[name]
    assert not any(has(dropped, c) for c in train + test)
    assert all(any(has(h, c) for h in held) for c in test)
    assert not any(has(h, c) for h in held for c in train)
    full_kept = {c for c in all_commands() if not has(dropped, c)}
    assert set(train) | set(test) == full_kept and len(full_kept) == 19701
    assert (min(map(n_actions, test)), max(map(n_actions, test))) == test_lengths


def test_template_phrases_are_whole_verb_phrases(splits):
    assert not any("around right" in c for c in splits["around_right"][0])
    assert any(has("walk around right", c) for c in splits["jump_around_right"][0])
    assert "walk opposite right" in splits["right"][0] and "walk right" in splits["right"][1]
    assert "walk around right" in splits["right"][0]


def test_simple_split_is_a_random_eighty_percent(splits):
    train, test = splits["simple"]
    assert len(train) == 0.8 * 20910 and set(train) | set(test) == set(all_commands())
    assert max(map(n_actions, train)) == max(map(n_actions, test)) == 48


def test_splits_are_deterministic_and_shuffled(splits):
    for name in ("simple", "addprim_jump", "right"):
        assert build_split(name) == splits[name]
    order = {c: i for i, c in enumerate(all_commands())}
    for name, (train, test) in splits.items():
        assert [order[c] for c in test] != sorted(order[c] for c in test), name


def test_unknown_split_suggests_a_name():
    with pytest.raises(ModbenchError, match=r"did you mean 'length'.*known: .*addprim_jump"):
        build_split("lenght")


def test_export_writes_upstream_format(tmp_path):
    train_path, test_path = export_scan("addprim_turn_left", tmp_path / "out")
    assert (train_path.name, test_path.name) == ("tasks_train_addprim_turn_left.txt",
                                                 "tasks_test_addprim_turn_left.txt")
    for path, n_lines in ((train_path, 21890), (test_path, 1208)):
        data = path.read_bytes()
        data.decode("ascii")
        assert data.endswith(b"\n") and b"\r" not in data and b"\n\n" not in data
        lines = data.decode().split("\n")[:-1]
        assert len(lines) == n_lines and all(LINE.fullmatch(line) for line in lines)
        for line in lines[:50]:
            command, actions = line[len("IN: "):].split(" OUT: ")
            assert interpret(command) == actions
    assert not [p for p in (tmp_path / "out").iterdir() if p.name.startswith(".")]  # no temp files


def as_lists(dataset_dict):
    return {side: (list(dataset_dict[side]["commands"]), list(dataset_dict[side]["actions"]))
            for side in ("train", "test")}


def test_dir_source_round_trip(tmp_path):
    export_scan("right", tmp_path / "files")
    from_files = load_scan("right", f"dir:{tmp_path / 'files'}", cache_dir=tmp_path / "cache")
    generated = load_scan("right", cache_dir=tmp_path / "cache2")
    assert as_lists(from_files) == as_lists(generated)
    assert len(from_files["train"]) == 15225 and from_files["train"].column_names == ["commands", "actions"]


def write_lines(path, lines):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(line + "\n" for line in lines))


@pytest.mark.parametrize("split, subfolder, stem", [
    ("around_right", "template_split", "template_around_right"),
    ("addprim_jump", "add_prim_split", "addprim_jump"),
    ("length", "length_split", "length"),
])
def test_dir_source_reads_upstream_layout(tmp_path, split, subfolder, stem):
    folder = tmp_path / "SCAN"
    write_lines(folder / subfolder / f"tasks_train_{stem}.txt",
                ["IN: walk OUT: I_WALK", "IN: turn left twice OUT: I_TURN_LEFT I_TURN_LEFT"])
    write_lines(folder / subfolder / f"tasks_test_{stem}.txt", ["IN: jump right OUT: I_TURN_RIGHT I_JUMP"])
    loaded = load_scan(split, f"dir:{folder}", cache_dir=tmp_path / "cache")
    assert as_lists(loaded) == {"train": (["walk", "turn left twice"], ["I_WALK", "I_TURN_LEFT I_TURN_LEFT"]),
                                "test": (["jump right"], ["I_TURN_RIGHT I_JUMP"])}


@pytest.mark.parametrize("bad", ["IN: walk OUT:", "IN: walk  OUT: I_WALK", "IN: walk OUT: I_WALK\r",
                                 "", "walk -> I_WALK", "IN: walk OUT: I_WALK "])
def test_malformed_line_names_file_and_line(tmp_path, bad):
    write_lines(tmp_path / "tasks_train_length.txt", ["IN: walk OUT: I_WALK", "IN: run OUT: I_RUN", bad])
    write_lines(tmp_path / "tasks_test_length.txt", ["IN: jump OUT: I_JUMP"])
    with pytest.raises(ModbenchError) as caught:
        load_scan("length", f"dir:{tmp_path}", cache_dir=tmp_path / "cache")
    message = str(caught.value)
    assert f"{tmp_path / 'tasks_train_length.txt'}:3:" in message and "\n" not in message


def test_missing_file_lists_the_paths_tried(tmp_path):
    write_lines(tmp_path / "tasks_train_right.txt", ["IN: walk OUT: I_WALK"])
    with pytest.raises(ModbenchError) as caught:
        load_scan("right", f"dir:{tmp_path}", cache_dir=tmp_path / "cache")
    message = str(caught.value)
    assert "\n" not in message and "only tasks_train_right.txt" in message
    assert str(tmp_path / "template_split" / "tasks_{train,test}_template_right.txt") in message
    with pytest.raises(ModbenchError, match="does not exist"):
        load_scan("right", f"dir:{tmp_path / 'nowhere'}", cache_dir=tmp_path / "cache")


@pytest.mark.parametrize("source", ["generate", "dir:", "hug", "file:/x", ""])
def test_malformed_source_names_the_accepted_forms(tmp_path, source):
    with pytest.raises(ModbenchError, match=r"accepted: generated.*hub.*dir:PATH"):
        load_scan("simple", source, cache_dir=tmp_path)


def test_hub_source_fails_fast_when_offline(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(datasets, "load_dataset", lambda *a, **k: pytest.fail("load_dataset called offline"))
    start = time.perf_counter()
    with pytest.raises(ModbenchError, match=r"offline.*--source generated.*--source dir:PATH") as caught:
        load_scan("length", "hub", cache_dir=tmp_path)
    assert time.perf_counter() - start < 2 and "\n" not in str(caught.value)


def test_hub_connection_error_becomes_offline_message(tmp_path, monkeypatch):
    for name in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE"):
        monkeypatch.delenv(name, raising=False)

    def unreachable(*args, **kwargs):
        raise ConnectionError("Couldn't reach 'scan-tasks/scan-tasks' on the Hub")

    monkeypatch.setattr(datasets, "load_dataset", unreachable)
    with pytest.raises(ModbenchError, match="offline"):
        load_scan("length", "hub", cache_dir=tmp_path)


def test_hub_source_uses_upstream_config_names(tmp_path, monkeypatch):
    for name in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE"):
        monkeypatch.delenv(name, raising=False)
    calls = []

    def fake_hub(repo, config):
        calls.append((repo, config))
        rows = {"commands": ["jump right"], "actions": ["I_TURN_RIGHT I_JUMP"]}
        return datasets.DatasetDict({side: datasets.Dataset.from_dict(rows) for side in ("train", "test")})

    monkeypatch.setattr(datasets, "load_dataset", fake_hub)
    loaded = load_scan("opposite_right", "hub", cache_dir=tmp_path)
    assert calls == [("scan-tasks/scan-tasks", "template_opposite_right")]
    assert list(loaded["test"]["actions"]) == ["I_TURN_RIGHT I_JUMP"]


def test_cache_is_named_by_fingerprint_and_reused(tmp_path, monkeypatch):
    first = load_scan("jump_around_right", cache_dir=tmp_path)
    folders = list((tmp_path / "scan").iterdir())
    assert [f.name for f in folders] == [f"jump_around_right-{scan_fingerprint(first)[:16]}"]

    def no_building(*args, **kwargs):
        raise AssertionError("the cache was not used")

    monkeypatch.setattr(datasets.Dataset, "from_dict", no_building)
    again = load_scan("jump_around_right", cache_dir=tmp_path)
    assert as_lists(again) == as_lists(first) and scan_fingerprint(again) == scan_fingerprint(first)
    assert again["train"].cache_files and str(folders[0]) in again["train"].cache_files[0]["filename"]
    train, test = build_split("jump_around_right")
    assert as_lists(again)["train"][0] == train and as_lists(again)["test"][0] == test


def test_cache_location_follows_modbench_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("MODBENCH_CACHE", str(tmp_path / "env-cache"))
    load_scan("jump_around_right")
    assert len(list((tmp_path / "env-cache" / "scan").glob("jump_around_right-*"))) == 1


def test_fingerprint_sees_order_and_sides():
    rows = {"commands": ["walk", "run"], "actions": ["I_WALK", "I_RUN"]}
    swapped = {"commands": ["run", "walk"], "actions": ["I_RUN", "I_WALK"]}
    make = lambda train, test: datasets.DatasetDict({"train": datasets.Dataset.from_dict(train),  # noqa: E731
                                                     "test": datasets.Dataset.from_dict(test)})
    prints = {scan_fingerprint(make(rows, swapped)), scan_fingerprint(make(swapped, rows)),
              scan_fingerprint(make(rows, rows))}
    assert len(prints) == 3 and all(re.fullmatch("[0-9a-f]{64}", p) for p in prints)


def test_a_crash_while_caching_leaves_no_cache(tmp_path, monkeypatch):
    def crash(self, *args, **kwargs):
        raise RuntimeError("disk gone")

    monkeypatch.setattr(datasets.DatasetDict, "save_to_disk", crash)
    with pytest.raises(RuntimeError):
        load_scan("jump_around_right", cache_dir=tmp_path)
    assert list((tmp_path / "scan").iterdir()) == []


def test_hub_respects_hf_datasets_offline(monkeypatch):
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    with pytest.raises(ModbenchError, match="offline"):
        scan_source.scan_pairs("simple", "hub")


def run_cli(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_data_export(capsys, tmp_path):
    code, out, err = run_cli(capsys, "data", "export", "scan", "--split", "length", "--out", str(tmp_path))
    assert code == 0 and err == ""
    assert out.splitlines() == [f"{tmp_path / 'tasks_train_length.txt'}\t16990 lines",
                                f"{tmp_path / 'tasks_test_length.txt'}\t3920 lines"]
    assert len((tmp_path / "tasks_test_length.txt").read_text().splitlines()) == 3920


@pytest.mark.parametrize("argv, needle", [
    (["scan", "--split", "lenght"], "did you mean 'length'"),
    (["mnist", "--split", "length"], "known: scan"),
    (["scan", "--split", "length", "--source", "web"], "accepted:"),
])
def test_cli_data_export_errors_are_one_line(capsys, tmp_path, argv, needle):
    code, out, err = run_cli(capsys, "data", "export", *argv, "--out", str(tmp_path / "out"))
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1 and needle in err
    assert not (tmp_path / "out").exists()


def test_generated_n_thins_the_test_side_to_n_evenly_spaced_lines_and_keeps_training():
    from modbench.data.scan_source import scan_pairs

    train, test = scan_pairs("length", "generated")
    small_train, small_test = scan_pairs("length", "generated:100")
    assert small_train == train and len(small_test) == 100
    assert small_test == [test[i * len(test) // 100] for i in range(100)]
    assert small_test[0] == test[0] and small_test[-1] != test[-1]

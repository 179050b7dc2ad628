"""DeepMind Mathematics data: the compatibility fix, seeded generation, answers re-computed
without the generator, difficulty, splits, the release-file reader, cache and export."""
import os
import re
import subprocess
import sys
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest

from modbench.cli import main
from modbench.data import math_compat
from modbench.data.math_generate import DIFFICULTIES, MODULES, REGIMES, generate
from modbench.data.math_source import (SPLITS, build_splits, load_math, math_fingerprint, parse_source,
                                       read_release, write_release)
from modbench.errors import ModbenchError

N = r"(-?\d+(?:\.\d+)?)"
# add_or_sub question forms (read from the generator's templates) -> the answer they ask for.
ADD_OR_SUB = [
    (rf"(?:What is |Calculate |Work out )?{N} ?\+ ?{N}[?.]?", lambda p, q: p + q),
    (rf"(?:Add|Put together|Sum|Total of|Add together) {N} and {N}\.", lambda p, q: p + q),
    (rf"What is {N} plus {N}\?", lambda p, q: p + q),
    (rf"(?:What is |Calculate |Work out )?{N} - {N}[?.]?", lambda p, q: p - q),
    (rf"What is {N} (?:minus|take away) {N}\?", lambda p, q: p - q),
    (rf"What is {N} less than {N}\?", lambda q, p: p - q),
    (rf"Subtract {N} from {N}\.", lambda q, p: p - q),
    (rf"What is the (?:distance|difference) between {N} and {N}\?", lambda p, q: abs(p - q)),
]


def solve_add_or_sub(question: str) -> Decimal:
    for pattern, answer in ADD_OR_SUB:
        match = re.fullmatch(pattern, question)
        if match:
            return answer(Decimal(match[1]), Decimal(match[2]))
    raise AssertionError(f"unparsed question {question!r}")


def solve_sort(question: str) -> str:
    match = re.fullmatch(r"(?:Sort|Put) (.+?)(?: in (ascending|increasing|descending|decreasing) order)?\.", question)
    assert match, question
    items = match[1].split(", ")
    descending = match[2] in ("descending", "decreasing")
    return ", ".join(sorted(items, key=Fraction, reverse=descending))


@pytest.fixture(scope="module")
def add_or_sub():
    return {regime: generate("arithmetic__add_or_sub", regime, 300) for regime in REGIMES}


def test_the_compatibility_fix_still_matches_the_installed_package():
    """Fails loudly when `mathematics-dataset` changes under us: every rewrite must apply as
    many times as in 1.0.1, and the generator's modules must then import."""
    root = Path(math_compat.importlib.util.find_spec("mathematics_dataset").origin).parent
    polynomials = "mathematics_dataset.sample.polynomials"
    patched = math_compat.patched_source((root / "sample" / "polynomials.py").read_text(), polynomials)
    assert "np.object" not in patched and ".itemset(" not in patched
    assert "sympy.solvers.diophantine.diophantine import base_solution_linear" in patched
    composition = "mathematics_dataset.util.composition"
    patched = math_compat.patched_source((root / "util" / "composition.py").read_text(), composition)
    assert "random.choice(sorted(allowed))" in patched
    tables = math_compat.import_generator_modules()
    assert callable(tables.train(lambda entropy: entropy)["arithmetic"]["add_or_sub"])


def test_generated_questions_do_not_depend_on_the_hash_seed(tmp_path):
    """Python salts str hashes per process; the generator once drew variable letters from a set,
    so linear_1d's questions differed between two runs of the same seed."""
    script = ("import sys; from modbench.data.math_generate import generate; "
              "print(generate('algebra__linear_1d', 'train-easy', 40))")
    outputs = {
        subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                       env={**os.environ, "PYTHONHASHSEED": hash_seed}).stdout
        for hash_seed in ("1", "2")
    }
    assert len(outputs) == 1 and "Solve" in outputs.pop()


def test_the_fix_refuses_a_source_it_does_not_know():
    with pytest.raises(ModbenchError, match="no longer matches.*mathematics-dataset==1.0.1"):
        math_compat.patched_source("import numpy as np\n", "mathematics_dataset.sample.polynomials")


def test_add_or_sub_answers_recomputed_without_the_generator(add_or_sub):
    for regime, pairs in add_or_sub.items():
        for question, answer in pairs:
            assert solve_add_or_sub(question) == Decimal(answer), (regime, question, answer)


def test_sort_answers_recomputed_without_the_generator():
    for regime in REGIMES:  # sort_more is slow to generate (2-3 questions/s): a few suffice
        for question, answer in generate("comparison__sort", regime, 5 if regime == "extrapolate" else 150):
            assert solve_sort(question) == answer, (regime, question)


def test_difficulty_grows_from_easy_to_hard(add_or_sub):
    """Entropy thirds: more digits in the operands from easy to medium to hard."""
    def mean_digits(pairs):
        return sum(sum(c.isdigit() for c in q) for q, _ in pairs) / len(pairs)

    easy, medium, hard = (mean_digits(add_or_sub[f"train-{d}"]) for d in DIFFICULTIES)
    assert easy < medium < hard
    assert mean_digits(add_or_sub["extrapolate"]) > hard  # the `_big` module goes further


def test_generation_is_seeded_and_leaves_global_random_state_alone():
    import random

    import numpy as np

    random.seed(7), np.random.seed(7)
    before = (random.random(), np.random.rand())
    random.seed(7), np.random.seed(7)
    first = generate("numbers__place_value", "train-easy", 50)
    after = (random.random(), np.random.rand())
    assert before == after
    assert generate("numbers__place_value", "train-easy", 50) == first
    assert generate("numbers__place_value", "train-medium", 50) != first


def test_splits_deduplicate_in_release_order_and_hold_out_per_difficulty():
    raw = {regime: [(f"{regime} q{i}", "1") for i in range(40)] for regime in REGIMES}
    raw["train-medium"] += [("train-easy q0", "1"), ("train-medium q1", "1")]  # repeats
    raw["interpolate"].append(("train-hard q3", "1"))
    splits = build_splits(raw, "arithmetic__add_or_sub", held_out=5)
    assert list(splits) == list(SPLITS)
    for d in DIFFICULTIES:
        train = {q for q, _ in splits[f"train_{d}"]}
        test = {q for q, _ in splits[f"test_{d}"]}
        assert len(test) == 5 and len(train) == 35 and not train & test
    every = [q for name in SPLITS for q, _ in splits[name]]
    assert len(every) == len(set(every)) == 5 * 40
    assert ("train-hard q3", "1") not in splits["interpolate"]
    assert build_splits(raw, "arithmetic__add_or_sub", held_out=5) == splits  # seeded hold-out


def test_too_little_data_to_hold_out_is_refused():
    raw = {regime: [(f"{regime} {i}", "1") for i in range(3)] for regime in REGIMES}
    with pytest.raises(ModbenchError, match="too few to hold out 5"):
        build_splits(raw, "comparison__sort", held_out=5)


def fabricate_release(root: Path, module: str, count: int = 30) -> dict:
    """A tiny release folder in the real layout: <root>/mathematics_dataset-v1.0/<regime>/<file>.txt."""
    raw = {regime: [(f"What is {i} + {k}?", str(i + k)) for i in range(count)] for k, regime in enumerate(REGIMES)}
    if MODULES[module] is None:
        raw["extrapolate"] = []
    write_release(raw, module, root / "mathematics_dataset-v1.0")
    return raw


def test_release_files_read_back_and_split(tmp_path):
    raw = fabricate_release(tmp_path, "arithmetic__add_or_sub")
    assert (tmp_path / "mathematics_dataset-v1.0" / "extrapolate" / "arithmetic__add_or_sub_big.txt").is_file()
    assert read_release(tmp_path, "arithmetic__add_or_sub") == raw
    assert read_release(tmp_path / "mathematics_dataset-v1.0", "arithmetic__add_or_sub") == raw
    with pytest.raises(ModbenchError, match="too few to hold out 10000"):  # the release's 10,000
        load_math("arithmetic__add_or_sub", f"dir:{tmp_path}", cache_dir=tmp_path / "cache")


def test_release_reader_names_the_missing_or_broken_file(tmp_path):
    fabricate_release(tmp_path, "comparison__sort")
    with pytest.raises(ModbenchError, match=r"missing .*train-easy/numbers__place_value\.txt"):
        read_release(tmp_path, "numbers__place_value")
    broken = tmp_path / "mathematics_dataset-v1.0" / "interpolate" / "comparison__sort.txt"
    broken.write_text(broken.read_text() + "a question without its answer\n")
    with pytest.raises(ModbenchError, match="odd number of lines"):
        read_release(tmp_path, "comparison__sort")


def test_generated_source_is_cached_by_recipe_and_fingerprinted(tmp_path, monkeypatch):
    first = load_math("numbers__place_value", "generated:200", cache_dir=tmp_path)
    for d in DIFFICULTIES:  # a tenth held out; repeated questions may shrink train
        assert len(first[f"test_{d}"]) == 20 and 0 < len(first[f"train_{d}"]) <= 180
    assert 0 < len(first["interpolate"]) <= 20 and 0 < len(first["extrapolate"]) <= 20
    assert (tmp_path / "math").is_dir() and len(list((tmp_path / "math").iterdir())) == 1
    monkeypatch.setattr("modbench.data.math_source.generate_release",
                        lambda *a: (_ for _ in ()).throw(AssertionError("the cache was not used")))
    again = load_math("numbers__place_value", "generated:200", cache_dir=tmp_path)
    assert math_fingerprint(again) == math_fingerprint(first)
    questions = [q for name in SPLITS for q in first[name]["question"]]
    assert len(questions) == len(set(questions))


def test_a_module_without_extrapolation_set_reloads_from_its_cache(tmp_path, monkeypatch):
    """linear_1d's empty extrapolation split once made the cached copy unreadable (datasets
    cannot load a split saved with no shard), so every run after the first crashed."""
    first = load_math("algebra__linear_1d", "generated:200", cache_dir=tmp_path)
    monkeypatch.setattr("modbench.data.math_source.generate_release",
                        lambda *a: (_ for _ in ()).throw(AssertionError("the cache was not used")))
    again = load_math("algebra__linear_1d", "generated:200", cache_dir=tmp_path)
    assert len(again["extrapolate"]) == 0 and again["extrapolate"].column_names == ["question", "answer"]
    assert len(again["interpolate"]) > 0 and math_fingerprint(again) == math_fingerprint(first)


def test_an_unreadable_cache_is_remade_not_a_crash(tmp_path):
    first = load_math("numbers__place_value", "generated:200", cache_dir=tmp_path)
    (cached,) = (tmp_path / "math").iterdir()
    for state in cached.glob("*/state.json"):
        state.write_text("{ not json")
    again = load_math("numbers__place_value", "generated:200", cache_dir=tmp_path)
    assert math_fingerprint(again) == math_fingerprint(first)
    assert math_fingerprint(load_math("numbers__place_value", "generated:200", cache_dir=tmp_path)) \
        == math_fingerprint(first)  # the remade copy reads back


@pytest.mark.parametrize("source", ["generated:5", "generated:x", "web", "dir:"])
def test_malformed_sources_are_refused(source):
    with pytest.raises(ModbenchError, match="malformed math source"):
        parse_source(source)


def test_export_writes_the_release_layout(tmp_path, capsys):
    code = main(["data", "export", "math", "--module", "comparison__sort", "--out", str(tmp_path),
                 "--source", "generated:30"])
    out, err = capsys.readouterr()
    assert code == 0 and err == ""
    written = sorted(Path(line.split("\t")[0]).relative_to(tmp_path).as_posix() for line in out.splitlines())
    assert written == sorted(["train-easy/comparison__sort.txt", "train-medium/comparison__sort.txt",
                              "train-hard/comparison__sort.txt", "interpolate/comparison__sort.txt",
                              "extrapolate/comparison__sort_more.txt"])
    assert "\t60 lines" in out  # 30 questions, each with its answer line
    assert read_release(tmp_path, "comparison__sort")["train-easy"] == generate("comparison__sort", "train-easy", 30)


def test_export_of_an_unknown_module_is_one_line(tmp_path, capsys):
    code = main(["data", "export", "math", "--module", "sort", "--out", str(tmp_path / "o")])
    _, err = capsys.readouterr()
    assert code == 2 and len(err.strip().splitlines()) == 1 and "comparison__sort" in err
    assert not (tmp_path / "o").exists()

"""Trained networks reused between runs that differ only in mask settings (modbench.network_cache):
the same numbers as training again, and a new file only for a new training."""
from modbench import results
from modbench.harness import RunSpec, prepare, run_and_save

BASE = (("train.steps", 30),)


def run(tmp_path, name, overrides=(), cache=None):
    spec = RunSpec("fnn", "addmul", "smoke", 0, (*BASE, *overrides), device="cpu",
                   network_cache=None if cache is None else str(cache))
    return run_and_save(prepare(spec), tmp_path / name)


def test_a_cached_network_gives_the_numbers_of_training_it_again(tmp_path):
    cache = tmp_path / "cache"
    plain = run(tmp_path, "plain")
    first = run(tmp_path, "first", cache=cache)  # trains and stores
    again = run(tmp_path, "again", cache=cache)  # loads
    assert len(list(cache.glob("*.safetensors"))) == 1
    for result in (first, again):
        assert result["masks"]["sha256"] == plain["masks"]["sha256"]
        assert result["scores"] == plain["scores"] and result["accuracy"] == plain["accuracy"]


def test_other_mask_settings_reuse_the_network_and_other_training_does_not(tmp_path):
    cache = tmp_path / "cache"
    a = run(tmp_path, "a", (("mask.beta", 1e-3),), cache)
    b = run(tmp_path, "b", (("mask.beta", 1e-5),), cache)
    assert len(list(cache.glob("*.safetensors"))) == 1
    assert a["accuracy"]["full"] == b["accuracy"]["full"]  # one network
    run(tmp_path, "c", (("train.lr", 3e-3),), cache)
    assert len(list(cache.glob("*.safetensors"))) == 2
    assert results.load(tmp_path / "a" / "addmul" / "fnn" / "smoke" / "seed0" / "result.json")["status"] == "ok"

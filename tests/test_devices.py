"""`--device`: resolved or refused in one line, recorded in results, the identity on the CPU.
(The CUDA path itself is checked by benchmarks/gpu_check.sh on a GPU machine.)"""
import pytest
import torch

from modbench import devices, harness, provenance, results
from modbench.cli import main
from modbench.errors import ModbenchError


@pytest.fixture
def no_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)


@pytest.fixture
def two_gpus(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)


def test_auto_is_the_cpu_without_cuda_and_the_first_gpu_with_it(no_cuda):
    assert devices.resolve("auto") == torch.device("cpu")
    assert devices.resolve("cpu") == torch.device("cpu")


def test_auto_takes_the_first_gpu_and_cuda_names_an_index(two_gpus):
    assert devices.resolve("auto") == torch.device("cuda", 0)
    assert devices.resolve("cuda") == torch.device("cuda", 0)
    assert devices.resolve("cuda:1") == torch.device("cuda", 1)


@pytest.mark.parametrize("name, message", [("cuda", "CUDA is not available"), ("cuda:0", "use --device cpu"),
                                           ("gpu", "not a device; choose auto, cpu, cuda or cuda:N"),
                                           ("cuda:-1", "not a device")])
def test_an_unavailable_or_unknown_device_is_refused(no_cuda, name, message):
    with pytest.raises(ModbenchError, match=message):
        devices.resolve(name)


def test_a_gpu_index_past_the_machine_is_refused(two_gpus):
    with pytest.raises(ModbenchError, match="has 2 GPU"):
        devices.resolve("cuda:2")


def test_on_the_cpu_batches_and_forwards_are_untouched():
    batch = (torch.zeros(3), torch.ones(2, dtype=torch.long))
    assert devices.move(batch, torch.device("cpu")) is batch
    forward = torch.nn.Linear(2, 2)
    assert devices.following_inputs(forward, torch.device("cpu")) is forward


@pytest.mark.parametrize("verb", [["run", "--arch", "fnn", "--task", "addmul", "--tier", "smoke", "--quiet"],
                                  ["check", "submissions/_examples/image_cnn"]])
def test_the_cli_refuses_cuda_on_a_machine_without_it_in_one_line(no_cuda, capsys, tmp_path, verb):
    out = tmp_path / "runs"
    argv = verb + (["--out", str(out)] if verb[0] == "run" else []) + ["--device", "cuda"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "--device cuda: CUDA is not available" in err and err.count("\n") == 1
    assert not any(out.rglob("result.json")) if out.exists() else True  # nothing ran


def test_results_record_the_device_and_the_hardware(tmp_path):
    assert main(["run", "--arch", "fnn", "--task", "addmul", "--tier", "smoke", "--out", str(tmp_path),
                 "--quiet", "--device", "cpu"]) == 0
    result = results.load(tmp_path / "addmul" / "fnn" / "smoke" / "seed0" / "result.json")
    env = result["environment"]
    assert env["device"] == "cpu" and env["gpu"] is None and env["cuda"] is None
    assert env["cpu"] == provenance.cpu_info()["cpu"] and env["cpu"]
    assert set(env["vector_extensions"]) <= set(provenance.VECTOR_FLAGS)


def test_the_device_is_not_part_of_a_runs_identity(no_cuda):
    spec = harness.RunSpec("fnn", "addmul", "smoke", 0)
    auto = harness.prepare(spec)
    cpu = harness.prepare(harness.RunSpec("fnn", "addmul", "smoke", 0, device="cpu"))
    assert auto.run_id == cpu.run_id and auto.device == cpu.device == torch.device("cpu")


def test_vector_extensions_are_read_from_cpuinfo(monkeypatch, tmp_path):
    fake = tmp_path / "cpuinfo"
    fake.write_text("processor\t: 0\nmodel name\t: Test CPU 9000\nflags\t\t: fpu sse4_2 avx avx2 fma\n")
    real_path = provenance.Path
    monkeypatch.setattr(provenance, "Path", lambda p: fake if p == "/proc/cpuinfo" else real_path(p))
    provenance.cpu_info.cache_clear()
    try:
        assert provenance.cpu_info() == {"cpu": "Test CPU 9000", "vector_extensions": ["sse4_2", "avx", "avx2", "fma"]}
    finally:
        provenance.cpu_info.cache_clear()


def test_a_local_grid_deals_its_runs_over_every_gpu(two_gpus):
    from modbench.executors import deal, gpu_placements

    assert gpu_placements("cuda", 5) == ["cuda:0", "cuda:1"]
    assert gpu_placements("auto", 5) == ["cuda:0", "cuda:1"]
    assert gpu_placements("cuda:1", 5) == ["cuda:1"]  # a named GPU is that GPU alone
    assert gpu_placements("cuda", 1) == ["cuda"]
    runs = [harness.prepare(harness.RunSpec("fnn", "addmul", "smoke", s, device="cpu")) for s in range(5)]
    shares = deal(runs, ["cuda:0", "cuda:1"])
    assert [[(s.seed, s.device) for s in share] for share in shares] == [
        [(0, "cuda:0"), (2, "cuda:0"), (4, "cuda:0")], [(1, "cuda:1"), (3, "cuda:1")]]


def test_a_cpu_machine_keeps_the_one_device(no_cuda):
    from modbench.executors import gpu_placements

    assert gpu_placements("auto", 5) == ["auto"]


@pytest.mark.parametrize("gpus, device, message", [(2, "auto", "pass --gpus 1"), (1, "cpu", "no run uses"),
                                                   (0, "cuda", "would have no GPU"), (1, "cuda:1", "as cuda:0")])
def test_a_job_arrays_gpus_and_device_must_agree(gpus, device, message):
    from modbench.executors import check_gpus

    with pytest.raises(ModbenchError, match=message):
        check_gpus(gpus, device)
    check_gpus(1, "cuda")  # a job with its GPU, computing on it
    check_gpus(0, "auto")

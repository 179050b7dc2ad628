import pytest
import torch

from modbench.archs import ARCHS, ArchSpec, build_model, io_parameter_names
from modbench.errors import ModbenchError
from modbench.masking import MaskFilter
from modbench.tasks import TASKS


def example_input(contract, batch=3):
    """A zero input of the contract's shape (sequence tasks: the three forward arguments)."""
    if contract.kind == "vector":
        return (torch.zeros(batch, contract.n_in),)
    if contract.kind == "image":
        return (torch.zeros(batch, contract.channels, contract.height, contract.width),)
    return (torch.ones(batch, 4, dtype=torch.long), torch.full((batch,), 4),
            torch.full((batch, 5), contract.sos))


def expected_shape(contract, batch=3):
    return {"vector": lambda: (batch, contract.n_out), "image": lambda: (batch, contract.n_classes),
            "sequence": lambda: (batch, 5, contract.tgt_vocab)}[contract.kind]()


PAIRS = [(a, t) for a in ARCHS.names() for t in TASKS.names()
         if ARCHS.get(a).fits(TASKS.get(t))]


def test_every_task_has_an_architecture_and_every_architecture_a_task():
    assert {t for _, t in PAIRS} == set(TASKS.names())
    # built-ins only: other test files register submitted architectures in this process
    assert {a for a, _ in PAIRS} == {n for n in ARCHS.names() if ARCHS.get(n).source_file is None}


@pytest.mark.parametrize("arch, task", PAIRS)
def test_every_arch_builds_for_every_task_it_fits_with_the_contract_shape(arch, task):
    spec, contract = ARCHS.get(arch), TASKS.get(task).contract
    model = build_model(spec, contract, spec.sizes["smoke"], init_seed=0)
    out = model(*example_input(contract))
    assert out.shape == expected_shape(contract)
    masked = MaskFilter().select(model)
    io = io_parameter_names(model, masked)
    assert len(io) >= 2 and set(io) <= set(masked)  # the first and the last at least


def test_init_depends_on_seed_only_and_leaves_global_rng_alone():
    spec, contract = ARCHS.get("fnn"), TASKS.get("addmul").contract
    state = torch.random.get_rng_state()
    a = build_model(spec, contract, spec.sizes["smoke"], init_seed=7)
    assert torch.equal(torch.random.get_rng_state(), state)
    torch.rand(5)  # move the global generator: must not matter
    b = build_model(spec, contract, spec.sizes["smoke"], init_seed=7)
    c = build_model(spec, contract, spec.sizes["smoke"], init_seed=8)
    for (name, p), q, r in zip(a.named_parameters(), b.parameters(), c.parameters()):
        assert torch.equal(p, q), name
    assert not torch.equal(a.layers[0].weight, c.layers[0].weight)


def test_lstm_follows_the_paper_init():
    spec, contract = ARCHS.get("lstm"), TASKS.get("addmul").contract
    model = build_model(spec, contract, {"hidden": 32}, init_seed=0)
    hidden = 32
    bias = model.lstm.bias_ih_l0
    assert (bias[hidden : 2 * hidden] == 1).all() and bias[:hidden].abs().sum() == 0
    cell = model.lstm.weight_hh_l0[2 * hidden : 3 * hidden]
    gain = (5 / 3) / 2**0.5
    torch.testing.assert_close(cell @ cell.T, gain**2 * torch.eye(hidden), atol=1e-4, rtol=1e-4)


def test_arch_that_does_not_fit_the_task_is_refused():
    spec = ArchSpec(name="seq_only", description="", factories={"sequence": lambda c: None})
    with pytest.raises(ModbenchError, match="does not fit a vector task"):
        build_model(spec, TASKS.get("addmul").contract, {}, init_seed=0)


def test_unknown_arch_suggests_the_closest_name():
    with pytest.raises(ModbenchError, match="did you mean 'fnn'"):
        ARCHS.get("fnm")


@pytest.mark.parametrize("arch, task", PAIRS)
def test_functional_masking_matches_in_place_masking(arch, task):
    """Guards pytorch#90500 (nn.LSTM read stale flat weights under functional_call)."""
    import copy

    from modbench.masking import FrozenModel, MaskSet

    spec, contract = ARCHS.get(arch), TASKS.get(task).contract
    model = build_model(spec, contract, spec.sizes["smoke"], init_seed=0).eval()
    masked = MaskFilter().select(model)
    g = torch.Generator().manual_seed(0)
    masks = {n: torch.rand(model.get_parameter(n).shape, generator=g) > 0.5 for n in masked}
    if contract.kind == "vector":
        x = (torch.rand(5, contract.n_in, generator=g),)
    elif contract.kind == "image":  # not zeros: a bias-free conv net maps zeros to its output bias
        x = (torch.randn(5, contract.channels, contract.height, contract.width, generator=g),)
    else:
        x = example_input(contract, 5)
    reference = copy.deepcopy(model)
    with torch.no_grad():
        for n, m in masks.items():
            reference.get_parameter(n).mul_(m)
    out = FrozenModel(model, masked).forward_with(MaskSet(masks))(*x)
    torch.testing.assert_close(out, reference(*x))
    assert not torch.allclose(out, model(*x))  # the masks did change the output


def test_an_architecture_owns_its_sizes_per_tier_and_task_group():
    """Tasks no longer branch on architecture names for sizes (issue 23): a size group's entry
    ("math/quick") wins over the tier's, and a submission declares them the same way."""
    from modbench.archs import ARCHS
    from modbench.tasks import TASKS

    transformer, fnn = ARCHS.get("transformer_seq2seq"), ARCHS.get("fnn")
    assert transformer.size(TASKS.get("math_sort").size_group, "quick")["d_model"] == 128
    assert transformer.size(TASKS.get("scan").size_group, "quick") == {"layers": 2, "dropout": 0.0}
    assert fnn.size("transfer", "quick") == {"hidden": (800, 800, 64)}
    assert fnn.size(None, "quick") == {"hidden": (800, 800, 800, 800)}
    assert ARCHS.get("cnn").size("mask_stability", "smoke")["dropout"] is False

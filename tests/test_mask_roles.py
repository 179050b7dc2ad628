"""What gets a mask is decided by what a tensor is (modbench.masking.roles), not by its name."""
import json
from pathlib import Path

import pytest
import torch
from torch import nn

from modbench.archs import ARCHS, build_model
from modbench.masking import MaskFilter
from modbench.masking.roles import BIAS, EMBEDDING, WEIGHT, parameter_roles
from modbench.tasks import TASKS

BASELINES = Path(__file__).resolve().parent.parent / "baselines"
COMMITTED = sorted(BASELINES.glob("*/*/quick/seed0/result.json"))


@pytest.mark.parametrize("path", COMMITTED, ids=lambda p: f"{p.parts[-5]}-{p.parts[-4]}")
def test_the_built_in_masked_sets_are_those_of_the_committed_baselines(path):
    """The committed results were masked by the name-based filter this one replaced; their
    `layers` list every masked tensor in order. The same sets keep those baselines valid."""
    result = json.loads(path.read_text())
    spec, contract = ARCHS.get(result["architecture"]["name"]), TASKS.get(result["task"]["name"]).contract
    model = build_model(spec, contract, result["config"]["arch_size"], init_seed=0)
    masked = MaskFilter(mask_biases=result["config"]["mask_filter"]["mask_biases"]).select(model)
    assert masked == list(result["layers"])


class TinyAttention(nn.Module):
    """A stock nn.MultiheadAttention, an embedding named `tok_emb` and an output layer tied to it."""

    def __init__(self) -> None:
        super().__init__()
        self.tok_emb = nn.Embedding(11, 8)
        self.attention = nn.MultiheadAttention(8, 2, add_bias_kv=True)
        self.norm = nn.LayerNorm(8)
        self.out = nn.Linear(8, 11)
        self.out.weight = self.tok_emb.weight  # weight tying

    def forward(self, ids):  # [seq, batch] -> [seq, batch, vocab]
        x = self.tok_emb(ids)
        return self.out(self.norm(self.attention(x, x, x)[0]))


def test_attention_biases_are_biases_whatever_their_name():
    roles = parameter_roles(TinyAttention())
    assert roles["attention.in_proj_bias"] == BIAS and roles["attention.bias_k"] == BIAS
    assert roles["attention.in_proj_weight"] == WEIGHT and roles["attention.out_proj.bias"] == BIAS
    assert "attention.in_proj_bias" not in MaskFilter(mask_biases=False).select(TinyAttention())
    assert "attention.in_proj_bias" in MaskFilter(mask_biases=True).select(TinyAttention())


def test_an_embedding_is_found_by_its_type_and_a_tensor_tied_to_it_is_never_masked():
    model = TinyAttention()
    roles = parameter_roles(model)
    assert roles["tok_emb.weight"] == EMBEDDING  # no "embedding" in its name
    assert "out.weight" not in roles  # the tied tensor has one name, its first
    masked = MaskFilter(mask_biases=True).select(model)
    assert "tok_emb.weight" not in masked and all(p is not model.out.weight for n, p in model.named_parameters() if n in masked)
    assert "out.bias" in masked and "norm.weight" in masked


def test_a_custom_module_guesses_biases_and_a_declaration_overrides_the_guess():
    class Custom(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.scale = nn.Parameter(torch.ones(4))
            self.my_bias = nn.Parameter(torch.zeros(4))
            self.bias_matrix = nn.Parameter(torch.zeros(4, 4))  # 2-D: not a bias

    model = Custom()
    assert parameter_roles(model) == {"scale": WEIGHT, "my_bias": BIAS, "bias_matrix": WEIGHT}
    model.parameter_roles = {"scale": "bias"}
    assert parameter_roles(model)["scale"] == BIAS


def _two_layers(parametrization) -> nn.Module:
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = nn.Sequential(nn.Linear(4, 4), nn.Tanh(), nn.Linear(4, 2))
    parametrization(model[0])
    return model


@pytest.mark.filterwarnings("ignore:.*weight_norm.*deprecated:FutureWarning")
@pytest.mark.parametrize("parametrization", [
    torch.nn.utils.parametrizations.weight_norm,
    torch.nn.utils.parametrizations.orthogonal,
    torch.nn.utils.weight_norm,  # the older hook-based one
], ids=["weight_norm", "orthogonal", "hook_weight_norm"])
def test_a_parametrized_weight_is_masked_on_the_weight_the_forward_uses(parametrization):
    """Before baking, the masks multiplied the raw tensors (original0/original1, weight_g/_v):
    kept weights were rescaled and, for the orthogonal layer, removed entries not zeroed."""
    from modbench.masking import FrozenModel, MaskSet
    from modbench.masking.roles import bake_parametrizations

    model = _two_layers(parametrization)
    x = torch.randn(5, 4, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        effective = model[0].weight.detach().clone()  # what the forward multiplies by
        expected_full = model(x)
    assert bake_parametrizations(model) == ["0.weight"]
    masked = MaskFilter(mask_biases=False).select(model)
    assert masked == ["0.weight", "2.weight"]
    frozen = FrozenModel(model, masked)
    keep = torch.ones(4, 4, dtype=torch.bool)
    keep[1, 2] = False
    ones = MaskSet({"0.weight": torch.ones(4, 4, dtype=torch.bool), "2.weight": torch.ones(2, 4, dtype=torch.bool)})
    with torch.no_grad():
        assert torch.allclose(frozen.forward_with(ones)(x), expected_full, atol=1e-6)
        one_removed = MaskSet({**ones.masks, "0.weight": keep})
        by_hand = torch.tanh(x @ (effective * keep).T + model[0].bias) @ model[2].weight.T + model[2].bias
        assert torch.allclose(frozen.forward_with(one_removed)(x), by_hand, atol=1e-6)


def test_a_compiled_module_is_masked_through_the_module_it_wraps():
    from modbench.archs import ArchSpec, build_model, io_parameter_names
    from modbench.contracts import VectorIO

    def factory(contract, hidden=8):
        net = nn.Sequential(nn.Linear(contract.n_in, hidden), nn.ReLU(), nn.Linear(hidden, contract.n_out))
        net.io_parameters = ("0.weight", "2.weight")
        return torch.compile(net)

    spec = ArchSpec("compiled", "a torch.compile'd MLP", {"vector": factory})
    model = build_model(spec, VectorIO(n_in=6, n_heads=1, n_classes=3), {}, init_seed=0)
    masked = MaskFilter().select(model)
    assert masked == ["0.weight", "2.weight"]  # not "_orig_mod.0.weight"
    assert io_parameter_names(model, masked) == ["0.weight", "2.weight"]  # the declaration survives

"""Declared tensor names are checked against the model; the defaults find the real output layer."""
import pytest
import torch
from torch import nn

from modbench.archs import output_parameter_name, output_parameter_names, validate_declarations
from modbench.errors import ModbenchError
from modbench.masking import MaskFilter


class Classifier(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Linear(6, 8)
        self.norm = nn.LayerNorm(8)
        self.head = nn.Linear(8, 3)

    def forward(self, x):
        return self.head(self.norm(self.body(x)))


@pytest.mark.parametrize("attribute", ["io_parameters", "input_parameters", "output_parameters", "output_parameter"])
def test_a_misspelt_declared_name_is_one_error_naming_it_and_the_closest_real_names(attribute):
    model = Classifier()
    setattr(model, attribute, "head.weigth" if attribute == "output_parameter" else ("body.weight", "head.weigth"))
    with pytest.raises(ModbenchError) as raised:
        validate_declarations(model)
    message = str(raised.value)
    assert f"{attribute} names 'head.weigth'" in message and "head.weight" in message and "\n" not in message


def test_correct_and_compiled_prefixed_names_pass():
    model = Classifier()
    model.output_parameters = ("_orig_mod.head.weight", "head.bias")
    validate_declarations(model)  # raises on any unknown name
    masked = MaskFilter(mask_biases=True).select(model)
    assert output_parameter_names(model, masked) == ["head.weight", "head.bias"]


def test_the_default_output_layer_is_the_last_linear_not_the_last_masked_tensor():
    """The old default took the last masked weight: with the head tied away, a LayerNorm."""
    model = Classifier()
    masked = MaskFilter(mask_biases=True).select(model)
    assert output_parameter_names(model, masked) == ["head.weight", "head.bias"]
    assert output_parameter_name(model, masked) == "head.weight"
    tied = nn.Module()
    tied.embedding = nn.Embedding(3, 8)
    tied.norm = nn.LayerNorm(8)
    tied.head = nn.Linear(8, 3)
    tied.head.weight = tied.embedding.weight
    masked = MaskFilter(mask_biases=False).select(tied)
    assert masked == ["norm.weight"]
    assert output_parameter_names(tied, masked) == [] and output_parameter_name(tied, masked) is None

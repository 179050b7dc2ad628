"""The tensors a model may declare for the analyses, their defaults, and the check that every
declared name is a real parameter (a misspelt name would silently turn an analysis off).

Declarations (attributes of the module; README, "Submitting an architecture"):
- `io_parameters`: the tensors that touch inputs or outputs (P_reuse_strict leaves them out);
  default: the first and the last masked tensor.
- `input_parameters`: what reads the raw input (transfer resets it per task); default: the
  first masked tensor and the rest of its module.
- `output_parameters`: the classifier's tensors (class removal freezes their mask); default:
  the last Linear or convolution weight and its bias.
- `output_parameter`: the output projection whose rows are output tokens (the seq2seq
  output-token analysis); default: the last Linear or convolution weight.
- `parameter_roles`: roles of a custom module's tensors (modbench.masking.roles).
"""
from __future__ import annotations

import difflib
from typing import Sequence

from torch import nn

from modbench.errors import ModbenchError
from modbench.masking.roles import layer_weights

DECLARED = ("io_parameters", "input_parameters", "output_parameters", "output_parameter", "parameter_roles")
_COMPILED = "_orig_mod."


def _declared_names(model: nn.Module, attribute: str) -> list[str]:
    value = getattr(model, attribute, None)
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def validate_declarations(model: nn.Module) -> None:
    """Raise one line naming every declared name that is no parameter, with the closest real
    names. A `torch.compile` prefix is dropped first (masks act on the uncompiled module)."""
    real = [name for name, _ in model.named_parameters(remove_duplicate=False)]
    problems = []
    for attribute in DECLARED:
        for name in _declared_names(model, attribute):  # parameter_roles: its keys
            if name.replace(_COMPILED, "") not in real:
                close = difflib.get_close_matches(name, real, n=3, cutoff=0.5)
                hint = f"closest: {', '.join(close)}" if close else f"the model's parameters start {', '.join(real[:3])}"
                problems.append(f"{attribute} names {name!r}, which is not a parameter of the model ({hint})")
    if problems:
        raise ModbenchError("; ".join(problems) + "; fix the names in the submission")


def _canonical(model: nn.Module, names: Sequence[str]) -> list[str]:
    """Declared names under the names `named_parameters()` gives (a tied tensor: its first)."""
    first = {id(t): n for n, t in model.named_parameters()}
    every = dict(model.named_parameters(remove_duplicate=False))
    return [first[id(every[n])] for n in (n.replace(_COMPILED, "") for n in names) if n in every]


def io_parameter_names(model: nn.Module, masked: Sequence[str]) -> list[str]:
    """The tensors that touch inputs or outputs (declared or the first and last masked)."""
    if getattr(model, "io_parameters", None) is not None:
        return [n for n in _canonical(model, _declared_names(model, "io_parameters")) if n in masked]
    return [masked[0], masked[-1]] if masked else []


def input_parameter_names(model: nn.Module, masked: Sequence[str]) -> list[str]:
    """The tensors that read the raw input, which a permuted-input task must relearn (transfer
    resets them, paper_spec §4.7)."""
    if getattr(model, "input_parameters", None) is not None:
        return [n for n in _canonical(model, _declared_names(model, "input_parameters")) if n in masked]
    if not masked:
        return []
    module = masked[0].rsplit(".", 1)[0]
    return [masked[0], *(n for n in masked[1:] if n.rsplit(".", 1)[0] == module)]


def output_parameter_names(model: nn.Module, masked: Sequence[str]) -> list[str]:
    """The classifier's masked tensors: declared, or the last Linear/convolution weight and its
    bias. Empty when that layer is not masked (tied to an embedding): the caller refuses."""
    if getattr(model, "output_parameters", None) is not None:
        return [n for n in _canonical(model, _declared_names(model, "output_parameters")) if n in masked]
    layers = layer_weights(model)
    if not layers or layers[-1] not in masked:
        return []
    bias = layers[-1].removesuffix("weight") + "bias"
    return [layers[-1], *([bias] if bias in masked else [])]


def output_parameter_name(model: nn.Module, masked: Sequence[str]) -> str | None:
    """The output projection [tgt_vocab, d] whose rows are tokens: declared, or the last Linear
    layer weight; None when it is not masked (the output-token analysis then has no value)."""
    declared = _canonical(model, _declared_names(model, "output_parameter"))
    name = declared[0] if declared else next(iter(layer_weights(model)[-1:]), None)
    return name if name in masked else None

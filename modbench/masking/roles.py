"""What each parameter of a model is: a weight, a bias or an embedding, decided by the module
that owns it, never by its name (a user's `tok_emb` is an embedding, an attention's
`in_proj_bias` is a bias).

Rules (submissions/README.md, "What gets a mask, and the optional hooks"):
- `nn.Embedding` / `nn.EmbeddingBag` tensors are embeddings, never masked (paper_spec §1.2), and
  so is any tensor tied to one: an output layer that shares its embedding's matrix has no mask
  (untie it to mask it).
- Linear, bilinear and convolution layers: `weight` is a weight, `bias` a bias.
- Normalisation layers (BatchNorm, LayerNorm, GroupNorm, RMSNorm, InstanceNorm): the scale is
  a weight, the shift a bias (the paper masks both where it masks biases, §1.2).
- `nn.MultiheadAttention`: `in_proj_bias`, `bias_k`, `bias_v` are biases; the projections weights.
- Recurrent layers and cells: `bias_*` are biases, `weight_*` weights.
- Parametrized tensors (`torch.nn.utils.parametrizations.weight_norm`, `orthogonal`, the older
  hook-based `weight_norm` / `spectral_norm`) are masked on the tensor the forward uses: the
  trained network's parametrizations are baked in before masking (`bake_parametrizations`).
- Any other module's own tensors: a 1-D tensor whose name contains "bias" is a bias, the rest
  weights; a model overrides that with a `parameter_roles = {"full.name": "bias"}` attribute.
"""
from __future__ import annotations

from typing import Callable

from torch import nn
from torch.nn.utils import parametrize

from modbench.errors import ModbenchError

WEIGHT, BIAS, EMBEDDING = "weight", "bias", "embedding"
ROLES = (WEIGHT, BIAS, EMBEDDING)

_NORMS = (nn.modules.batchnorm._NormBase, nn.LayerNorm, nn.GroupNorm, nn.RMSNorm)
_LAYERS = (nn.Linear, nn.Bilinear, nn.modules.conv._ConvNd, *_NORMS)

# module types -> role of each of the module's own parameters, by its local name (first match)
MODULE_RULES: tuple[tuple[tuple[type, ...], Callable[[str], str]], ...] = (
    ((nn.Embedding, nn.EmbeddingBag), lambda name: EMBEDDING),
    ((nn.MultiheadAttention,), lambda name: BIAS if name in ("in_proj_bias", "bias_k", "bias_v") else WEIGHT),
    ((nn.RNNBase, nn.RNNCellBase), lambda name: BIAS if name.startswith("bias") else WEIGHT),
    (_LAYERS, lambda name: BIAS if name == "bias" else WEIGHT),
)


def _guessed_role(name: str, ndim: int) -> str:
    return BIAS if ndim <= 1 and "bias" in name.lower() else WEIGHT


def parameter_roles(model: nn.Module) -> dict[str, str]:
    """{name: role} for every distinct tensor under its first name (`named_parameters()`).

    A tensor reachable under several names (tied) takes the strongest role any of its owners
    gives it: embedding over weight over bias."""
    declared = dict(getattr(model, "parameter_roles", None) or {})
    bad = {n: r for n, r in declared.items() if r not in ROLES}
    if bad:
        raise ModbenchError(f"parameter_roles {bad} name no role; use one of {', '.join(ROLES)}")
    found: dict[int, str] = {}
    rank = {BIAS: 0, WEIGHT: 1, EMBEDDING: 2}
    for module_name, module in model.named_modules(remove_duplicate=False):
        rule = next((r for types, r in MODULE_RULES if isinstance(module, types)), None)
        for local, tensor in module.named_parameters(recurse=False):
            full = f"{module_name}.{local}" if module_name else local
            role = declared.get(full) or (rule(local) if rule else _guessed_role(local, tensor.ndim))
            if id(tensor) not in found or rank[role] > rank[found[id(tensor)]]:
                found[id(tensor)] = role
    return {name: found[id(tensor)] for name, tensor in model.named_parameters()}


def layer_weights(model: nn.Module) -> list[str]:
    """Names of the Linear and convolution weights, in order: where an output layer can be."""
    roles = parameter_roles(model)
    names = []
    for module_name, module in model.named_modules():
        if isinstance(module, (nn.Linear, nn.modules.conv._ConvNd)):
            name = f"{module_name}.weight" if module_name else "weight"
            if roles.get(name) == WEIGHT:
                names.append(name)
    return names


def bake_parametrizations(model: nn.Module) -> list[str]:
    """Replace every parametrized tensor by its current value, as a plain parameter, in place:
    the function is unchanged (weights are frozen) and a mask then multiplies the weight the
    forward uses, not the raw tensors it is computed from. Returns the baked names."""
    from torch.nn.utils.spectral_norm import SpectralNorm, remove_spectral_norm
    from torch.nn.utils.weight_norm import WeightNorm, remove_weight_norm

    baked = []
    for module_name, module in model.named_modules():
        prefix = f"{module_name}." if module_name else ""
        if parametrize.is_parametrized(module):
            for tensor_name in list(module.parametrizations):
                parametrize.remove_parametrizations(module, tensor_name, leave_parametrized=True)
                baked.append(prefix + tensor_name)
        for hook in list(module._forward_pre_hooks.values()):
            remove = {WeightNorm: remove_weight_norm, SpectralNorm: remove_spectral_norm}.get(type(hook))
            if remove is not None:
                remove(module, hook.name)
                baked.append(prefix + hook.name)
    return baked

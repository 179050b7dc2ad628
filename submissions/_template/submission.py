"""Template submission: copy this folder to submissions/<your_name>/ and edit.

modbench imports this file and reads `SUBMISSION`. A factory takes the task's I/O contract
(modbench/contracts.py) and the tier's size keywords, and returns an `nn.Module`. Loss,
decoding, masking and scoring belong to modbench: the module only maps inputs to logits.

- "vector" tasks (addmul, double_add): `forward(x [batch, n_in])` -> logits
  `[batch, contract.n_heads * contract.n_classes]`, head-major.
- "sequence" tasks (scan, math_*): `forward(src [batch, S], src_len [batch], tgt_in [batch, T])`
  -> logits `[batch, T, contract.tgt_vocab]`, causal in `tgt_in`.
- "image" tasks (class_removal, mask_stability): `forward(images [batch, C, H, W])` -> logits
  `[batch, contract.n_classes]`; H = 1 for MNIST-1D signals.

Optionally name the tensors that touch inputs and outputs in `io_parameters` (used by
p_reuse_strict); otherwise the first and last masked tensors count. Likewise `input_parameters`
names what reads the raw input (transfer resets it per task); otherwise the first masked
tensor and the rest of its module count. Every declared name must be a parameter of the model.
The other hooks (output_parameters, output_parameter, incremental decoding, vmap) are shown in
submissions/_examples/ and listed in submissions/README.md.

Check it (smoke tier of every task it supports, under a minute on a CPU):
    modbench check submissions/<your_name>
Run it like a built-in:
    modbench run --arch submissions/<your_name> --task addmul --tier quick --seeds 0-4 --out submissions/<your_name>/results
"""
from __future__ import annotations

from torch import nn

from modbench.contracts import VectorIO
from modbench.submission import Submission


class TemplateMLP(nn.Module):
    def __init__(self, contract: VectorIO, hidden: int = 256, layers: int = 2):
        super().__init__()
        sizes = [contract.n_in] + [hidden] * layers
        blocks: list[nn.Module] = []
        for fan_in, fan_out in zip(sizes, sizes[1:]):
            blocks += [nn.Linear(fan_in, fan_out), nn.ReLU()]
        self.body = nn.Sequential(*blocks)
        self.head = nn.Linear(sizes[-1], contract.n_out)
        self.io_parameters = ("body.0.weight", "head.weight")
        self.input_parameters = ("body.0.weight", "body.0.bias")

    def forward(self, x):  # x: [batch, n_in] -> [batch, n_heads * n_classes]
        return self.head(self.body(x))


SUBMISSION = Submission(
    name="template_mlp",
    authors=("Your Name",),
    description="two-layer ReLU MLP: the starting point for a submission",
    reference="",
    factories={"vector": TemplateMLP},
    # factory kwargs per tier; "<size group>/<tier>" keys (e.g. "transfer/quick") give the tasks of
    # that group (Task.size_group: math, transfer, mask_stability) a size of their own
    sizes={"smoke": {"hidden": 32}, "quick": {"hidden": 800, "layers": 4}},
)

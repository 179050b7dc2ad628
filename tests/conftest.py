"""Tests run offline, on the CPU, deterministically (see README)."""
import os
import tempfile

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("HF_HOME", tempfile.mkdtemp(prefix="modbench-hf-"))
# The SCAN Arrow cache of the test session, never the user's ~/.cache/modbench.
os.environ["MODBENCH_CACHE"] = tempfile.mkdtemp(prefix="modbench-cache-")

import pytest  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402


class TinyConvBN(nn.Module):
    """Conv + BatchNorm + Linear: has buffers that train-mode BatchNorm would update."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3)
        self.norm = nn.BatchNorm2d(4)
        self.head = nn.Linear(4, 3)

    def forward(self, x):  # [batch, 1, 5, 5] -> [batch, 3]
        return self.head(self.norm(self.conv(x)).relu().mean((2, 3)))


@pytest.fixture
def conv_bn_model() -> nn.Module:
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = TinyConvBN()
    # Non-trivial running statistics, as after training.
    model.norm.running_mean.fill_(0.3)
    model.norm.running_var.fill_(2.0)
    return model


@pytest.fixture
def needed_and_harmful():
    """A frozen y = w · x whose target is x0: the weight on x0 is needed, the one on the
    always-positive x1 only hurts. Returns (frozen model, loss, batch sampler)."""
    import torch.nn.functional as F

    from modbench.masking import FrozenModel

    model = nn.Linear(2, 1, bias=False)
    with torch.no_grad():
        model.weight.copy_(torch.tensor([[1.0, 1.0]]))

    def batch(n, g):
        x = torch.randn(n, 2, generator=g)
        x[:, 1] = x[:, 1].abs() + 1.0
        return x, x[:, :1]

    def mse(forward, b):
        return F.mse_loss(forward(b[0]), b[1])

    return FrozenModel(model, ["weight"]), mse, batch

"""Image data for the vision tasks, behind one interface: `load_images(dataset, source)`.

- `generated[:N]` (the offline default): MNIST-1D (Greydanus 2020; PyPI `mnist1d`), N signals
  (default 20,000; 80/20 train/test as the package splits), generated locally from a seed
  derived from this module's data version. Why MNIST-1D: it installs from the package index and
  needs no download, it is a *generator* (any N, so per-class test sets are large enough for
  per-class drops: 400 per class at the default), and small models separate it in minutes on a
  CPU while it still needs real features (scikit-learn's 8×8 digits has 1,797 images, ~36 per
  class in a test split: too few for per-class statistics). Signals are `[N, 1, 1, 40]`.
- `dir:PATH`: the real dataset through torchvision from a folder (downloaded where online):
  CIFAR-10 (`PATH/cifar-10-batches-py/`, `[N, 3, 32, 32]`) or MNIST (`PATH/MNIST/raw/`,
  `[N, 1, 28, 28]`), per-channel normalised with the training set's mean and std (paper_spec
  §4.7, §4.9). Evaluation uses the official test set (the paper's simple-CNN code evaluated on
  a 20% split of the training file; README, differences).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from modbench.data.seeding import identity_seed, seeded_globals
from modbench.errors import ModbenchError
from modbench.data.seeding import fingerprint

DATA_VERSION = 1
DEFAULT_GENERATED = 20_000
CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")


@dataclass(frozen=True)
class ImageData:
    name: str  # "mnist1d", "cifar10" or "mnist"
    train_x: torch.Tensor  # [N, C, H, W] float32, normalised
    train_y: torch.Tensor  # [N] int64
    test_x: torch.Tensor
    test_y: torch.Tensor
    classes: tuple[str, ...]

    def fingerprints(self) -> dict[str, str]:
        return {f"{self.name}/{split}": fingerprint(getattr(self, split).numpy())
                for split in ("train_x", "train_y", "test_x", "test_y")}


def generated_count(source: str) -> int:
    """`generated` → the default N; `generated:N` → N (a multiple of 10, at least 100)."""
    _, _, count = source.partition(":")
    if not count:
        return DEFAULT_GENERATED
    if not count.isdigit() or int(count) < 100 or int(count) % 10:
        raise ModbenchError(f"malformed source {source!r}; write generated:N with N a multiple of 10, at least 100")
    return int(count)


def mnist1d(count: int = DEFAULT_GENERATED) -> ImageData:
    """MNIST-1D generated locally; the package seeds the global RNGs, which we give back."""
    from mnist1d.data import get_dataset_args, make_dataset

    args = get_dataset_args()
    args.num_samples = count
    args.seed = identity_seed(f"mnist1d@v{DATA_VERSION}/{count}") % 2**32
    with seeded_globals(args.seed):
        data = make_dataset(args)  # x [0.8 N, 40] float64, already standardised; y int64

    def signals(x: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(x.astype(np.float32))[:, None, None, :]  # [N, 1, 1, 40]

    return ImageData("mnist1d", signals(data["x"]), torch.from_numpy(data["y"]).long(),
                     signals(data["x_test"]), torch.from_numpy(data["y_test"]).long(),
                     tuple(str(c) for c in range(10)))


def _normalised(train: np.ndarray, test: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    """uint8 [N, H, W, C] → float [N, C, H, W], standardised per channel with train statistics."""
    train_t = torch.from_numpy(train).float().div_(255).permute(0, 3, 1, 2)
    test_t = torch.from_numpy(test).float().div_(255).permute(0, 3, 1, 2)
    mean = train_t.mean(dim=(0, 2, 3), keepdim=True)
    std = train_t.std(dim=(0, 2, 3), keepdim=True)
    return ((train_t - mean) / std).contiguous(), ((test_t - mean) / std).contiguous()


def cifar10(root: Path) -> ImageData:
    """CIFAR-10 through torchvision's reader (MD5-checked) from `root/cifar-10-batches-py/`."""
    from torchvision.datasets import CIFAR10

    try:
        train, test = CIFAR10(str(root), train=True), CIFAR10(str(root), train=False)
    except RuntimeError as err:
        raise ModbenchError(f"no valid CIFAR-10 under {root} ({err}); expected {root}/cifar-10-batches-py/ "
                            "with data_batch_1..5, test_batch and batches.meta (python version)") from None
    train_x, test_x = _normalised(train.data, test.data)
    return ImageData("cifar10", train_x, torch.tensor(train.targets), test_x, torch.tensor(test.targets),
                     tuple(train.classes))


def mnist(root: Path) -> ImageData:
    """MNIST through torchvision's reader from `root/MNIST/raw/` (the four idx files)."""
    from torchvision.datasets import MNIST

    try:
        train, test = MNIST(str(root), train=True), MNIST(str(root), train=False)
    except RuntimeError as err:
        raise ModbenchError(f"no valid MNIST under {root} ({err}); expected {root}/MNIST/raw/ with "
                            "train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, "
                            "t10k-labels-idx1-ubyte") from None
    train_x, test_x = _normalised(train.data.numpy()[..., None], test.data.numpy()[..., None])
    return ImageData("mnist", train_x, train.targets.long(), test_x, test.targets.long(),
                     tuple(str(c) for c in range(10)))


READERS = {"cifar10": cifar10, "mnist": mnist}


def load_images(real: str, source: str) -> ImageData:
    """`source` generated[:N] → MNIST-1D; dir:PATH → the real dataset `real` ("cifar10" or "mnist")."""
    if source == "generated" or source.startswith("generated:"):
        return mnist1d(generated_count(source))
    if source.startswith("dir:"):
        root = Path(source[4:])
        if not root.is_dir():
            raise ModbenchError(f"--source {source}: no such folder {root}")
        return READERS[real](root)
    raise ModbenchError(f"unknown source {source!r} for {real}; use generated[:N] (MNIST-1D, offline) or dir:PATH")

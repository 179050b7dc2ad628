"""Image data: MNIST-1D generated offline; CIFAR-10 and MNIST read by torchvision from tiny
fabricated folders in the real on-disk layouts (scan_facts.md §7-8)."""
import pickle
import random
import struct

import numpy as np
import pytest
import torch

from modbench.data import images
from modbench.errors import ModbenchError

def write_cifar(root, n_train=4, n_test=3):
    """5 train batches of n_train rows and one test batch, pickled as torchvision expects."""
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    labels = {}
    for name, n in [*((f"data_batch_{i}", n_train) for i in range(1, 6)), ("test_batch", n_test)]:
        data = rng.integers(0, 256, size=(n, 3072), dtype=np.uint8)
        labels[name] = [int(v) for v in rng.integers(0, 10, n)]
        batch = {"data": data, "labels": labels[name], "batch_label": name, "filenames": [f"{name}_{i}.png" for i in range(n)]}
        with open(folder / name, "wb") as handle:
            pickle.dump(batch, handle, protocol=2)
    with open(folder / "batches.meta", "wb") as handle:
        pickle.dump({"label_names": list(images.CIFAR10_CLASSES), "num_cases_per_batch": n_train, "num_vis": 3072}, handle)
    return labels


@pytest.fixture
def existence_only(monkeypatch):
    """torchvision checks the MD5 of every CIFAR-10 file; fabricated files cannot match, so the
    test replaces the check by an existence check inside the cifar module (where torchvision
    imported it). The loader users get keeps the real check (next test)."""
    import torchvision.datasets.cifar as cifar

    monkeypatch.setattr(cifar, "check_integrity", lambda path, md5=None: __import__("os").path.isfile(path))


def test_cifar10_is_read_through_torchvision_in_its_layout(tmp_path, existence_only):
    labels = write_cifar(tmp_path)
    data = images.load_images("cifar10", f"dir:{tmp_path}")
    assert data.train_x.shape == (20, 3, 32, 32) and data.test_x.shape == (3, 3, 32, 32)
    assert data.train_y.tolist() == sum((labels[f"data_batch_{i}"] for i in range(1, 6)), [])
    assert data.classes == images.CIFAR10_CLASSES
    # per-channel standardised with the training set's statistics
    assert torch.allclose(data.train_x.mean(dim=(0, 2, 3)), torch.zeros(3), atol=1e-5)
    assert torch.allclose(data.train_x.std(dim=(0, 2, 3)), torch.ones(3), atol=1e-4)
    # the R plane of row 0 is channel 0 (1024 R values come first in a row)
    with open(tmp_path / "cifar-10-batches-py" / "data_batch_1", "rb") as handle:
        raw = pickle.load(handle, encoding="latin1")["data"][0, :1024].reshape(32, 32).astype(np.float32)
    restored = data.train_x[0, 0].numpy()
    assert np.corrcoef(raw.ravel(), restored.ravel())[0, 1] > 0.999


def test_fabricated_cifar_files_fail_the_real_md5_check(tmp_path):
    write_cifar(tmp_path)  # no monkeypatch: the loader users get refuses files with wrong MD5s
    with pytest.raises(ModbenchError, match="no valid CIFAR-10 under"):
        images.load_images("cifar10", f"dir:{tmp_path}")


def _idx(path, array, magic):
    path.write_bytes(struct.pack(">I", magic) + b"".join(struct.pack(">I", d) for d in array.shape) + array.tobytes())


def test_mnist_is_read_from_its_idx_files(tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(1)
    train, test = rng.integers(0, 256, (6, 28, 28), dtype=np.uint8), rng.integers(0, 256, (2, 28, 28), dtype=np.uint8)
    _idx(raw / "train-images-idx3-ubyte", train, 0x803)
    _idx(raw / "train-labels-idx1-ubyte", np.array([3, 1, 4, 1, 5, 9], dtype=np.uint8), 0x801)
    _idx(raw / "t10k-images-idx3-ubyte", test, 0x803)
    _idx(raw / "t10k-labels-idx1-ubyte", np.array([2, 6], dtype=np.uint8), 0x801)
    data = images.load_images("mnist", f"dir:{tmp_path}")
    assert data.train_x.shape == (6, 1, 28, 28) and data.test_y.tolist() == [2, 6]
    assert data.train_y.tolist() == [3, 1, 4, 1, 5, 9]
    assert np.corrcoef(train[2].ravel(), data.train_x[2, 0].numpy().ravel())[0, 1] > 0.999


def test_a_missing_folder_is_named(tmp_path):
    with pytest.raises(ModbenchError, match="no such folder"):
        images.load_images("cifar10", f"dir:{tmp_path / 'absent'}")
    with pytest.raises(ModbenchError, match="no valid MNIST under"):
        images.load_images("mnist", f"dir:{tmp_path}")


def test_mnist1d_is_generated_offline_balanced_and_deterministic():
    random.seed(5)
    np.random.seed(5)
    before = (random.random(), np.random.random())
    random.seed(5)
    np.random.seed(5)
    data = images.load_images("cifar10", "generated:1000")
    assert (random.random(), np.random.random()) == before  # the caller's global states are back
    assert data.name == "mnist1d" and data.train_x.shape == (800, 1, 1, 40) and data.test_x.shape == (200, 1, 1, 40)
    counts = torch.bincount(torch.cat([data.train_y, data.test_y]), minlength=10)
    assert counts.tolist() == [100] * 10  # num_samples // 10 per class
    again = images.mnist1d(1000)
    assert torch.equal(again.train_x, data.train_x) and again.fingerprints() == data.fingerprints()
    assert images.mnist1d(1010).fingerprints() != data.fingerprints()


@pytest.mark.parametrize("source", ["generated:55", "generated:x", "generated:90", "ftp:somewhere"])
def test_malformed_sources_are_refused(source):
    with pytest.raises(ModbenchError, match="source"):
        images.load_images("cifar10", source)

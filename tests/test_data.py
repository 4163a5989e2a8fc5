"""The data set registry: shapes, splits, the seeds' linear data, offline errors."""

from __future__ import annotations

import pytest
import torch

from tui_lab.data import DATASETS, EMBEDDED, dataset_info, load_dataset, synthetic_linear
from tui_lab.errors import ConfigError


@pytest.mark.parametrize("name", EMBEDDED)
def test_embedded_sets_load_with_their_declared_shape(name):
    data = load_dataset(name)
    info = data.info
    assert tuple(data.train_x.shape[1:]) == info.input_shape == tuple(data.val_x.shape[1:])
    assert len(data.train_x) == len(data.train_y) and len(data.val_x) == len(data.val_y)
    if not name.endswith("-small"):  # a transfer target keeps little training data on purpose
        assert abs(len(data.val_x) / (len(data.train_x) + len(data.val_x)) - 0.2) < 0.01
    if info.task == "classification":
        assert set(data.train_y.unique().tolist()) == set(range(info.num_classes))


def test_digits_are_sklearns_real_digits_resized():
    from sklearn.datasets import load_digits

    data = load_dataset("digits")
    assert len(data.train_x) + len(data.val_x) == len(load_digits().target) == 1797
    assert data.train_x.shape[1:] == (1, 28, 28)
    # standardized with the training split's statistics
    assert data.train_x.mean().abs() < 1e-4 and (data.train_x.std() - 1).abs() < 1e-3


def test_split_is_fixed_across_loads():
    a, b = load_dataset("digits"), load_dataset("digits")
    assert torch.equal(a.val_y, b.val_y) and torch.equal(a.train_x, b.train_x)


def test_linear_data_follows_the_seed_formula():
    x, y = synthetic_linear(n=5000, noise=0.01, seed=3)
    w, *_ = torch.linalg.lstsq(torch.cat([x, torch.ones(len(x), 1)], 1), y)
    assert torch.allclose(w.flatten(), torch.tensor([2.0, -3.4, 4.2]), atol=2e-3)


def test_unknown_dataset_names_the_alternatives():
    with pytest.raises(ConfigError, match="allowed: digits, linear"):
        dataset_info("imagenet")


def test_torchvision_set_offline_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError) as info:
        load_dataset("fashion-mnist", data_dir=tmp_path)
    msg = str(info.value)
    assert msg.startswith("dataset:") and "digits" in msg and "--data-dir" in msg


def test_torchvision_set_from_a_local_copy(tmp_path):
    """A local MNIST copy in torchvision's raw format loads without any network."""
    import gzip
    import struct

    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)

    def write(name, magic, dims, payload):
        with gzip.open(raw / name, "wb") as f:
            f.write(struct.pack(">I", magic) + b"".join(struct.pack(">I", d) for d in dims) + payload)
        (raw / name[:-3]).write_bytes(gzip.decompress((raw / name).read_bytes()))

    for prefix, n in (("train", 12), ("t10k", 4)):
        write(f"{prefix}-images-idx3-ubyte.gz", 2051, (n, 28, 28), bytes(range(256)) * (n * 784 // 256) + bytes(n * 784 % 256))
        write(f"{prefix}-labels-idx1-ubyte.gz", 2049, (n,), bytes(i % 10 for i in range(n)))
    data = load_dataset("mnist", data_dir=tmp_path, download=False)
    assert data.train_x.shape == (12, 1, 28, 28) and data.val_x.shape == (4, 1, 28, 28)
    assert data.train_y.tolist() == [i % 10 for i in range(12)]


def test_every_registered_set_is_described():
    for d in DATASETS.values():
        assert d.description and d.input_shape

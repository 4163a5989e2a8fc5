"""Data set registry: embedded data sets that need no network, plus real torchvision ones.

`dataset_info(name)` describes a data set without loading it (shape, classes, task);
`load_dataset(name)` returns train/val tensors on the CPU, ready to be moved to a device whole.
Embedded: `digits` (scikit-learn's real 8x8 handwritten digits, resized to 28x28), `linear`
(y = Xw + b + noise, w = [2, -3.4], b = 4.2 as in the seeds), 2-D `spirals`, `moons`, `circles`,
`xor`, the `sine` sequence (predict cos from sin) and `reverse` (token sequences to reverse, a
per-token task for the transformer). Downloaded: `fashion-mnist`, `mnist`, `cifar10`.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Any
from pathlib import Path

from tui_lab.errors import ConfigError, choice_error

# Tasks measured by accuracy: a classification's per example, a sequence task's per token.
ACCURACY_TASKS = ("classification", "sequence")
SPLIT_SEED = 20240601  # fixed: the train/val split never depends on the run's seed
VAL_FRACTION = 0.2


@dataclass(frozen=True)
class DatasetInfo:
    name: str
    kind: str  # "image" | "points" | "sequence" | "features" | "tokens"
    task: str  # "classification" | "regression" | "sequence" (one class per token, accuracy per token)
    input_shape: tuple[int, ...]  # one example, e.g. (1, 28, 28), (2,), (20, 1)
    num_classes: int  # 0 for regression; the vocabulary size for a sequence task
    description: str
    embedded: bool  # True: generated or shipped, no network needed
    classes: tuple[str, ...] = ()

    @property
    def output_dim(self) -> int:
        return self.num_classes if self.task in ACCURACY_TASKS else 1

    @property
    def has_accuracy(self) -> bool:
        return self.task in ACCURACY_TASKS

    @property
    def is_image(self) -> bool:
        return self.kind == "image"


@dataclass(frozen=True)
class LoadedData:
    info: DatasetInfo
    train_x: Any  # torch.Tensor, float32 (torch is imported lazily: not named in the annotation)
    train_y: Any  # torch.Tensor, int64 (classification) or float32 (regression)
    val_x: Any
    val_y: Any


REVERSE_LENGTH, REVERSE_VOCAB, REVERSE_SIZE = 8, 10, 5000
_DIGITS = tuple(str(i) for i in range(10))
_FASHION = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
_CIFAR = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")

DATASETS: dict[str, DatasetInfo] = {
    d.name: d
    for d in (
        DatasetInfo("digits", "image", "classification", (1, 28, 28), 10,
                    "scikit-learn's 1,797 real 8x8 handwritten digits, resized to 28x28", True, _DIGITS),
        DatasetInfo("linear", "features", "regression", (2,), 0,
                    "y = Xw + b + noise with w = [2, -3.4], b = 4.2 (1,000 points)", True),
        DatasetInfo("spirals", "points", "classification", (2,), 3, "three interleaved 2-D spirals", True, ("0", "1", "2")),
        DatasetInfo("moons", "points", "classification", (2,), 2, "two interleaving half circles", True, ("0", "1")),
        DatasetInfo("circles", "points", "classification", (2,), 2, "a circle inside a ring", True, ("0", "1")),
        DatasetInfo("xor", "points", "classification", (2,), 2, "four clusters labelled by XOR of the quadrant", True, ("0", "1")),
        DatasetInfo("sine", "sequence", "regression", (20, 1), 0,
                    "windows of 20 samples of sin(t); predict cos at the last step", True),
        DatasetInfo("digits-0to4", "image", "classification", (1, 28, 28), 5,
                    "the digits 0-4 of `digits` (transfer learning's source task)", True, _DIGITS[:5]),
        DatasetInfo("digits-5to9-small", "image", "classification", (1, 28, 28), 5,
                    "digits 5-9 as classes 0-4, 10 training images each (all 5-9 validation images): "
                    "transfer learning's target task", True, _DIGITS[5:]),
        DatasetInfo("reverse", "tokens", "sequence", (REVERSE_LENGTH,), REVERSE_VOCAB,
                    "5,000 sequences of 8 tokens from a vocabulary of 10; the target is the sequence reversed",
                    True, _DIGITS),
        DatasetInfo("fashion-mnist", "image", "classification", (1, 28, 28), 10,
                    "Zalando's 70,000 28x28 clothing images (download or --data-dir)", False, _FASHION),
        DatasetInfo("mnist", "image", "classification", (1, 28, 28), 10,
                    "70,000 28x28 handwritten digits (download or --data-dir)", False, _DIGITS),
        DatasetInfo("cifar10", "image", "classification", (3, 32, 32), 10,
                    "60,000 32x32 colour images in 10 classes (download or --data-dir)", False, _CIFAR),
    )
}

EMBEDDED = tuple(n for n, d in DATASETS.items() if d.embedded)


def dataset_info(name: str) -> DatasetInfo:
    key = (name or "").strip().lower()
    if key not in DATASETS:
        raise choice_error("dataset", name, DATASETS)
    return DATASETS[key]


def default_data_dir() -> Path:
    from tui_lab.paths import dllab_home

    return dllab_home() / "data"


def load_dataset(name: str, data_dir: str | os.PathLike | None = None, download: bool = True) -> LoadedData:
    info = dataset_info(name)
    loader = _LOADERS[info.name]
    if info.embedded:
        train_x, train_y, val_x, val_y = loader()
    else:
        train_x, train_y, val_x, val_y = loader(Path(data_dir) if data_dir else default_data_dir(), download)
    if info.is_image:
        train_x, val_x = standardize(train_x, val_x)
    return LoadedData(info, train_x, train_y, val_x, val_y)


def standardize(train_x, val_x):
    """Per-channel mean 0 / std 1 using the training split's statistics (transforms.Normalize).

    Sigmoid nets such as the original LeNet barely move on raw [0, 1] pixels in a few epochs;
    centred inputs let them learn.
    """
    dims = (0, 2, 3)
    mean = train_x.mean(dim=dims, keepdim=True)
    std = train_x.std(dim=dims, keepdim=True).clamp_min(1e-6)
    return (train_x - mean) / std, (val_x - mean) / std


# --- embedded ---------------------------------------------------------------------------------


def _split(x, y):
    import torch

    g = torch.Generator().manual_seed(SPLIT_SEED)
    perm = torch.randperm(len(x), generator=g)
    n_val = int(round(len(x) * VAL_FRACTION))
    val, train = perm[:n_val], perm[n_val:]
    return x[train].contiguous(), y[train].contiguous(), x[val].contiguous(), y[val].contiguous()


def _digits():
    import torch
    import torch.nn.functional as F
    from sklearn.datasets import load_digits

    bunch = load_digits()
    x = torch.tensor(bunch.images, dtype=torch.float32).unsqueeze(1) / 16.0  # (1797, 1, 8, 8) in [0, 1]
    x = F.interpolate(x, size=(28, 28), mode="bilinear", align_corners=False).clamp_(0, 1)
    y = torch.tensor(bunch.target, dtype=torch.int64)
    return _split(x, y)


LINEAR_W = (2.0, -3.4)  # the `linear` data set's true weights and bias (d2l's synthetic_data)
LINEAR_B = 4.2


def synthetic_linear(n: int = 1000, w=LINEAR_W, b: float = LINEAR_B, noise: float = 0.01, seed: int = 0):
    """The seeds' synthetic_data(w, b, n): X ~ N(0, 1), y = Xw + b + N(0, noise^2)."""
    import torch

    g = torch.Generator().manual_seed(seed)
    w_t = torch.tensor(w)
    x = torch.normal(0, 1, (n, len(w)), generator=g)
    y = x @ w_t + b + torch.normal(0, noise, (n,), generator=g)
    return x, y.reshape(-1, 1)


def _linear():
    return _split(*synthetic_linear(seed=SPLIT_SEED))


def _spirals(n_per_class: int = 300, classes: int = 3):
    import torch

    g = torch.Generator().manual_seed(SPLIT_SEED)
    xs, ys = [], []
    for c in range(classes):
        r = torch.linspace(0.05, 1.0, n_per_class)
        t = torch.linspace(c * 4.0, (c + 1) * 4.0, n_per_class) + torch.randn(n_per_class, generator=g) * 0.2
        xs.append(torch.stack([r * torch.sin(t), r * torch.cos(t)], 1))
        ys.append(torch.full((n_per_class,), c, dtype=torch.int64))
    return _split(torch.cat(xs), torch.cat(ys))


def _sklearn_points(kind: str, n: int = 800):
    import torch
    from sklearn.datasets import make_circles, make_moons

    if kind == "moons":
        x, y = make_moons(n_samples=n, noise=0.1, random_state=SPLIT_SEED % 2**31)
    else:
        x, y = make_circles(n_samples=n, noise=0.08, factor=0.5, random_state=SPLIT_SEED % 2**31)
    return _split(torch.tensor(x, dtype=torch.float32), torch.tensor(y, dtype=torch.int64))


def _xor(n: int = 800):
    import torch

    g = torch.Generator().manual_seed(SPLIT_SEED)
    x = torch.rand(n, 2, generator=g) * 2 - 1
    x = x + 0.1 * torch.sign(x)  # keep points off the axes so the quadrants are clear
    y = ((x[:, 0] > 0) ^ (x[:, 1] > 0)).to(torch.int64)
    return _split(x, y)


def _sine(n: int = 1000, steps: int = 20):
    import torch

    g = torch.Generator().manual_seed(SPLIT_SEED)
    start = torch.rand(n, 1, generator=g) * 2 * math.pi
    t = start + torch.arange(steps).float() * 0.2  # (n, steps)
    x = torch.sin(t).unsqueeze(-1)  # (n, steps, 1)
    y = torch.cos(t[:, -1:])  # (n, 1): cos at the last step
    return _split(x, y)


def _reverse(n: int = REVERSE_SIZE, length: int = REVERSE_LENGTH, vocab: int = REVERSE_VOCAB):
    """Uniform random token sequences (int64) and the same sequences reversed as the per-token targets."""
    import torch

    g = torch.Generator().manual_seed(SPLIT_SEED)
    x = torch.randint(0, vocab, (n, length), generator=g)
    return _split(x, x.flip(1))


# --- torchvision -------------------------------------------------------------------------------


def _offline_error(name: str, root: Path, exc: Exception) -> ConfigError:
    return ConfigError(
        "dataset",
        f"could not load {name} from {root} or download it ({type(exc).__name__}); "
        f"pass --data-dir with a local copy, or use an embedded data set: {', '.join(EMBEDDED)}",
    )


def _torchvision(name: str):
    def load(root: Path, download: bool):
        import torch
        import torchvision

        cls = {"fashion-mnist": torchvision.datasets.FashionMNIST, "mnist": torchvision.datasets.MNIST,
               "cifar10": torchvision.datasets.CIFAR10}[name]
        root.mkdir(parents=True, exist_ok=True)
        try:  # torchvision shows its own download progress bar
            train = cls(str(root), train=True, download=download)
            test = cls(str(root), train=False, download=download)
        except Exception as exc:  # offline, missing files, corrupt archive
            raise _offline_error(name, root, exc) from None

        def tensors(ds):
            data = torch.as_tensor(ds.data)
            if data.ndim == 4:  # CIFAR: N, H, W, C uint8
                data = data.permute(0, 3, 1, 2)
            else:
                data = data.unsqueeze(1)
            return data.float().div_(255.0).contiguous(), torch.as_tensor(ds.targets, dtype=torch.int64)

        return (*tensors(train), *tensors(test))

    return load


def _digits_subset(low: int, per_class: int | None = None):
    """The digits low..low+4 relabelled 0..4; at most `per_class` training images of each (the first
    ones of the fixed split), every validation image of those digits."""
    import torch

    train_x, train_y, val_x, val_y = _digits()
    keep = (train_y >= low) & (train_y < low + 5)
    if per_class is not None:
        rank = torch.zeros_like(train_y)
        for c in range(low, low + 5):
            idx = (train_y == c).nonzero().flatten()
            rank[idx] = torch.arange(len(idx))
        keep &= rank < per_class
    vkeep = (val_y >= low) & (val_y < low + 5)
    return (train_x[keep].contiguous(), train_y[keep] - low, val_x[vkeep].contiguous(), val_y[vkeep] - low)


_LOADERS = {
    "digits": _digits,
    "digits-0to4": lambda: _digits_subset(0),
    "digits-5to9-small": lambda: _digits_subset(5, per_class=10),
    "linear": _linear,
    "spirals": _spirals,
    "moons": lambda: _sklearn_points("moons"),
    "circles": lambda: _sklearn_points("circles"),
    "xor": _xor,
    "sine": _sine,
    "reverse": _reverse,
    "fashion-mnist": _torchvision("fashion-mnist"),
    "mnist": _torchvision("mnist"),
    "cifar10": _torchvision("cifar10"),
}

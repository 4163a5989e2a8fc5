"""Autoencoders: a trained run's reconstructions and its latent space, from the run's checkpoint.

`load_autoencoder(run_id)` rebuilds an autoencoder run's model (`training.load_checkpoint`, weights
only) and refuses any other model with one line. `latent_space(model, config)` encodes the data set's
validation split: with a 2-D code the points are the codes themselves; a 1-D code is drawn on a line
(y = 0); a wider code is projected on its first two principal components (PCA, computed here with an
SVD, the fraction of variance each keeps reported). `reconstructions(model, config, indices)` gives
inputs, outputs and each one's mean squared error. `scatter_pixels` turns points into a grid of
labels (the majority label of each pixel), which the latent screen draws as half-block pixels.
`train_autoencoder(settings)` trains and records a run (the lesson's preset by default), yielding its
training events and, last, `Trained(run_id)`. No UI imports; torch is imported inside the functions.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Iterator, Sequence

from tui_lab.errors import ConfigError

MODEL = "autoencoder"
# The lesson's preset (lessons/60-autoencoders.md): 784 -> 256 -> 64 -> 2 -> 64 -> 256 -> 784 on the digits.
PRESET: dict[str, Any] = {"model": MODEL, "dataset": "digits", "optimizer": "adam", "lr": 0.003, "epochs": 6,
                          "batch_size": 64, "seed": 0, "hidden": [256, 64], "latent": 2}
OPTION_KEYS = ("hidden", "latent", "activation")


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    label: int


@dataclass(frozen=True)
class LatentSpace:
    """The validation set in the code space: `points` (one per example, in the split's order)."""

    run_id: int | None
    latent: int  # the code's width
    projection: str  # "none" (2-D code), "line" (1-D code, y = 0) or "pca" (first two principal components)
    points: tuple[Point, ...]
    explained: tuple[float, ...] = ()  # pca: the fraction of the codes' variance each axis keeps
    classes: tuple[str, ...] = ()
    val_loss: float | None = None  # mean squared error of the reconstructions over the same split

    def to_json(self) -> dict[str, Any]:
        return {"run": self.run_id, "latent": self.latent, "projection": self.projection,
                "explained": list(self.explained), "val_loss": self.val_loss, "classes": list(self.classes),
                "points": [{"x": p.x, "y": p.y, "label": p.label} for p in self.points]}

    def describe(self) -> str:
        if self.projection == "none":
            return "the 2-D code itself"
        if self.projection == "line":
            return "a 1-D code, drawn on a line"
        kept = " + ".join(f"{100 * e:.0f}%" for e in self.explained)
        return f"a {self.latent}-D code projected on its first two principal components (PCA: {kept} of its variance)"


@dataclass(frozen=True)
class Reconstructions:
    indices: tuple[int, ...]  # validation-split indices
    labels: tuple[int, ...]
    inputs: Any  # torch.Tensor (n, C, H, W), as the model sees them (standardized)
    outputs: Any  # torch.Tensor (n, C, H, W)
    errors: tuple[float, ...]  # each example's mean squared error


@dataclass(frozen=True)
class Trained:
    """The last event of `train_autoencoder`: the recorded run's id."""

    run_id: int


def _train_config(config: dict[str, Any]):
    from tui_lab.features import _train_config as build

    return build(config)


def preset_config(settings: dict[str, Any] | None = None):
    """The TrainConfig of a preset (flat model options as in a lesson's [preset]), validated."""
    from tui_lab.lessons import train_config_kwargs

    values = {k: v for k, v in {**PRESET, **dict(settings or {})}.items() if k not in ("run", "sample")}
    return _train_config(train_config_kwargs(values)).validated()


def load_autoencoder(run_id: int, store=None):
    """(model, TrainConfig) of a finished autoencoder run, on the CPU; ConfigError for any other run."""
    from tui_lab.features import load_run
    from tui_lab.runs import RunStore

    store = store or RunStore()
    model_name = str(store.get_run(run_id).summary.config.get("model", "")).lower()
    if model_name != MODEL:
        raise ConfigError("run", f"run {run_id} trained {model_name or 'no model'}, not an autoencoder; "
                                 f"train one: dllab train --model autoencoder --dataset digits")
    model, config = load_run(run_id, store)
    model.eval()
    return model, config


@lru_cache(maxsize=2)
def validation_split(dataset: str, data_dir: str | None = None):
    """(x, labels, classes) of the data set's validation split, standardized as in training (cached:
    the screen pages through it; callers never change these tensors)."""
    from tui_lab.data import load_dataset

    data: Any = load_dataset(dataset, data_dir)
    return data.val_x.float(), data.val_y, tuple(data.info.classes or ())


def encode(model, x, batch_size: int = 1024):
    """The codes of `x` (n, latent), through the model's encoder, without gradients."""
    import torch

    model.eval()
    with torch.no_grad():
        return torch.cat([model.encoder(x[i:i + batch_size]) for i in range(0, x.shape[0], batch_size)])


def project(codes) -> tuple[Any, str, tuple[float, ...]]:
    """(n, 2) points for (n, k) codes, how they were made, and the variance each PCA axis keeps.

    PCA: the codes minus their mean, times the first two right singular vectors (each signed so its
    largest component is positive, so the picture does not flip between runs of the same numbers)."""
    import torch

    codes = codes.double()
    k = codes.shape[1]
    if k == 2:
        return codes.clone(), "none", ()
    if k == 1:
        return torch.cat([codes, torch.zeros_like(codes)], 1), "line", ()
    centred = codes - codes.mean(0, keepdim=True)
    _, s, vh = torch.linalg.svd(centred, full_matrices=False)
    axes = vh[:2]
    signs = torch.sign(axes.gather(1, axes.abs().argmax(1, keepdim=True)))
    axes = axes * signs
    var = s.square()
    total = float(var.sum()) or 1.0
    return centred @ axes.T, "pca", tuple(float(v) / total for v in var[:2])


def latent_space(model, config, run_id: int | None = None) -> LatentSpace:
    """Every validation example's code (projected to 2-D when it is wider) with its label."""
    import torch

    x, y, classes = validation_split(config.dataset, config.data_dir)
    codes = encode(model, x)
    xy, how, explained = project(codes)
    with torch.no_grad():
        loss = float(torch.nn.functional.mse_loss(model.decoder(codes), x))
    points = tuple(Point(float(a), float(b), int(lab)) for (a, b), lab in zip(xy.tolist(), y.tolist()))
    return LatentSpace(run_id, int(codes.shape[1]), how, points, explained, classes, loss)


def run_latent(run_id: int, store=None) -> LatentSpace:
    """The latent space of autoencoder run `run_id` over its data set's validation split."""
    model, config = load_autoencoder(run_id, store)
    return latent_space(model, config, run_id)


def reconstructions(model, config, indices: Sequence[int]) -> Reconstructions:
    """Validation examples `indices`, the model's reconstructions of them, and each one's MSE."""
    import torch

    x, y, _ = validation_split(config.dataset, config.data_dir)
    n = x.shape[0]
    for i in indices:
        if not 0 <= int(i) < n:
            raise ConfigError("sample", f"must be a whole number from 0 to {n - 1} (the {config.dataset} "
                                        f"validation set), got {i}")
    idx = torch.tensor([int(i) for i in indices], dtype=torch.int64)
    inputs = x[idx]
    model.eval()
    with torch.no_grad():
        outputs = model(inputs).float()
    errors = (outputs - inputs).square().flatten(1).mean(1)
    return Reconstructions(tuple(int(i) for i in indices), tuple(int(v) for v in y[idx].tolist()), inputs, outputs,
                           tuple(float(e) for e in errors))


def thumbnail(images, size: int):
    """(n, C, H, W) images averaged down to size x size (the 8x8 digits resized to 28x28 lose nothing at 14)."""
    import torch.nn.functional as F

    return F.adaptive_avg_pool2d(images.float(), (size, size))


def bounds(points: Sequence[Point], margin: float = 0.05) -> tuple[float, float, float, float]:
    """(x_lo, x_hi, y_lo, y_hi) around the points, `margin` of the span added on each side."""
    if not points:
        return (-1.0, 1.0, -1.0, 1.0)
    xs, ys = [p.x for p in points], [p.y for p in points]

    def widen(lo: float, hi: float) -> tuple[float, float]:
        span = hi - lo or 1.0
        return lo - margin * span, hi + margin * span

    return (*widen(min(xs), max(xs)), *widen(min(ys), max(ys)))


def pixel_of(x: float, y: float, box: tuple[float, float, float, float], cols: int, rows: int) -> tuple[int, int]:
    """(row, col) of a point in a cols x rows grid over `box` (y up: the top row is the largest y)."""
    x_lo, x_hi, y_lo, y_hi = box
    col = int((x - x_lo) / ((x_hi - x_lo) or 1.0) * cols)
    row = int((y_hi - y) / ((y_hi - y_lo) or 1.0) * rows)
    return min(max(row, 0), rows - 1), min(max(col, 0), cols - 1)


def scatter_pixels(points: Sequence[Point], cols: int, rows: int,
                   box: tuple[float, float, float, float] | None = None) -> list[list[int]]:
    """A rows x cols grid: each pixel the most frequent label among its points (ties: the smaller
    label), -1 where there is none."""
    box = box or bounds(points)
    counts: dict[tuple[int, int], dict[int, int]] = {}
    for p in points:
        cell = counts.setdefault(pixel_of(p.x, p.y, box, cols, rows), {})
        cell[p.label] = cell.get(p.label, 0) + 1
    grid = [[-1] * cols for _ in range(rows)]
    for (r, c), by_label in counts.items():
        grid[r][c] = min(by_label, key=lambda lab: (-by_label[lab], lab))
    return grid


def newest_run(store) -> int | None:
    """The newest finished autoencoder run with a checkpoint, or None."""
    from pathlib import Path

    for run in store.list_runs(limit=200):
        if run.status == "finished" and run.model == MODEL and run.checkpoint and Path(run.checkpoint).exists():
            return run.id
    return None


def train_autoencoder(settings: dict[str, Any] | None = None, store=None, cancel=None,
                      threads: int | str = "auto") -> Iterator[Any]:
    """Train an autoencoder (the preset, `settings` overriding it) into the run store: its training
    events, recorded as they go, then `Trained(run_id)`. ConfigError when the run does not finish.
    `threads=1` makes the run the same bit for bit on any box (snapshot tests)."""
    from dataclasses import replace

    from tui_lab.recording import record
    from tui_lab.runs import RunStore
    from tui_lab.training import Diverged, Failed, Finished, train

    store = store or RunStore()
    config = replace(preset_config(settings), threads=threads).validated()
    run_id = store.create_run(config.to_dict())
    finished = False
    for event in record(store, run_id, train(config, checkpoint_path=store.checkpoint_path(run_id), cancel=cancel)):
        if isinstance(event, (Failed, Diverged)):
            raise ConfigError("run", f"the autoencoder run {run_id} did not finish: {event.message}")
        finished = finished or isinstance(event, Finished)
        yield event
    if not finished:
        raise ConfigError("run", f"the autoencoder run {run_id} did not finish")
    yield Trained(run_id)

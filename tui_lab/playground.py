"""The 2-D playground: a small MLP trained live on spirals / moons / circles / xor.

`Playground(config)` holds one model, its optimizer and the data; `train(n)` takes n steps and
`frame(cols, rows)` evaluates the decision map on a grid of cell centres. `train_playground` streams
frames for a whole run. `collapse_linear(model)` shows why a network without activations draws a
straight line: its layers multiply out to a single W x + b.

As TensorFlow Playground: `noise` adds Gaussian noise to the points (its standard deviation a
fraction of the data's radius), `ratio` is the share of points used for training (the rest is the
test set; 0.8 is the data set's own split), `batch_size`, `regularization` none / l1 / l2 with
`reg_rate` (loss = cross-entropy + rate x sum |w| or rate x sum w^2 over the weights, biases
excluded), and input `features` computed from (x1, x2): x1, x2, x1², x2², x1·x2, sin x1, sin x2.
A frame carries train and test loss, each layer's weight-gradient norm at the last step and, when
asked, every hidden neuron's output over a small map.
"""

from __future__ import annotations

import math
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any, Callable, Iterator

from tui_lab.errors import ConfigError, choice_error

DATASETS = ("spirals", "moons", "circles", "xor")
# The same names as tui_lab.models.ACTIVATIONS (a test checks it); kept here so that reading a
# preset does not import torch.
ACTIVATIONS = ("relu", "tanh", "sigmoid", "leakyrelu", "elu", "none")
OPTIMIZERS = ("adam", "sgd", "momentum", "rmsprop", "adagrad", "adamw", "nesterov")
MAX_DEPTH = 4  # hidden layers
MAX_WIDTH = 64  # units per hidden layer
MAX_STEPS = 20_000
FEATURES = ("x1", "x2", "x1^2", "x2^2", "x1x2", "sin_x1", "sin_x2")
FEATURE_LABELS = {"x1": "x1", "x2": "x2", "x1^2": "x1²", "x2^2": "x2²", "x1x2": "x1·x2",
                  "sin_x1": "sin x1", "sin_x2": "sin x2"}
FEATURE_ALIASES = {"x1sq": "x1^2", "x2sq": "x2^2", "x1*x2": "x1x2", "x1·x2": "x1x2", "sinx1": "sin_x1",
                   "sinx2": "sin_x2", "sin(x1)": "sin_x1", "sin(x2)": "sin_x2", "x1²": "x1^2", "x2²": "x2^2"}
REGULARIZATIONS = ("none", "l1", "l2")
MAX_NOISE = 1.0
DEFAULT_RATIO = 0.8  # the embedded data sets' own train/validation split
PRESET_KEYS = ("dataset", "hidden", "activation", "lr", "optimizer", "steps", "batch_size", "seed",
               "noise", "ratio", "regularization", "reg_rate", "features")
MARGIN = 0.1  # fraction of the data's span added around it in the map


@dataclass(frozen=True)
class PlaygroundConfig:
    dataset: str = "spirals"
    hidden: tuple[int, ...] = (16, 16)  # widths of the hidden layers; () = a linear model
    activation: str = "relu"
    lr: float = 0.03
    optimizer: str = "adam"
    steps: int = 300  # steps in one run (a run can be continued)
    batch_size: int = 0  # 0 = full batch
    seed: int = 0
    noise: float = 0.0  # std of the added noise, as a fraction of the data's radius
    ratio: float = DEFAULT_RATIO  # share of the points used for training
    regularization: str = "none"
    reg_rate: float = 0.0
    features: tuple[str, ...] = ("x1", "x2")

    @property
    def depth(self) -> int:
        return len(self.hidden)

    @property
    def is_linear(self) -> bool:
        """True when nothing non-linear sits between the layers or in the inputs."""
        return (not self.hidden or self.activation == "none") and self.features == ("x1", "x2")


@dataclass(frozen=True)
class Bounds:
    xmin: float
    xmax: float
    ymin: float
    ymax: float

    def cell_centre(self, col: int, row: int, cols: int, rows: int) -> tuple[float, float]:
        """Centre of grid cell (row, col); row 0 is the top (largest y)."""
        x = self.xmin + (col + 0.5) * (self.xmax - self.xmin) / cols
        y = self.ymax - (row + 0.5) * (self.ymax - self.ymin) / rows
        return x, y

    def cell_of(self, x: float, y: float, cols: int, rows: int) -> tuple[int, int] | None:
        """(row, col) of the cell holding point (x, y), or None when it lies outside."""
        col = int((x - self.xmin) / (self.xmax - self.xmin) * cols)
        row = int((self.ymax - y) / (self.ymax - self.ymin) * rows)
        if 0 <= col < cols and 0 <= row < rows:
            return row, col
        return None


@dataclass(frozen=True)
class LinearCollapse:
    """A linear network multiplied out: net(x) == x @ weight.T + bias."""

    weight: tuple[tuple[float, ...], ...]  # (classes, 2)
    bias: tuple[float, ...]
    layers: int  # how many nn.Linear layers were composed
    max_error: float  # max |x W^T + b - net(x)| over the map's grid


@dataclass(frozen=True)
class PlaygroundFrame:
    step: int
    loss: float  # cross-entropy over the whole training set at this step
    accuracy: float  # training accuracy
    val_accuracy: float  # accuracy on the test points (the data set's validation split by default)
    grid: tuple[tuple[int, ...], ...]  # predicted class per cell, rows x cols, row 0 at the top
    confidence: tuple[tuple[float, ...], ...]  # softmax probability of that class
    bounds: Bounds
    points: tuple[tuple[float, float, int], ...]  # training points (x, y, label)
    num_classes: int
    config: PlaygroundConfig
    collapse: LinearCollapse | None = None  # set when the network is linear
    diverged: bool = False
    test_loss: float = float("nan")  # cross-entropy over the test points
    grad_norms: tuple[float, ...] = ()  # L2 norm of each linear layer's weight gradient, last step
    neurons: tuple[tuple[tuple[tuple[float, ...], ...], ...], ...] = ()  # [layer][unit] rows x cols

    @property
    def test_accuracy(self) -> float:
        return self.val_accuracy

    @property
    def rows(self) -> int:
        return len(self.grid)

    @property
    def cols(self) -> int:
        return len(self.grid[0]) if self.grid else 0


# --- configuration ---------------------------------------------------------------------------


def validate(config: PlaygroundConfig) -> PlaygroundConfig:
    """Check and normalise a configuration; raises ConfigError naming the field."""
    from tui_lab.optimizers import parse_lr

    dataset = (config.dataset or "").strip().lower()
    if dataset not in DATASETS:
        raise choice_error("dataset", config.dataset, DATASETS)
    activation = (config.activation or "").strip().lower()
    if activation not in ACTIVATIONS:
        raise choice_error("activation", config.activation, ACTIVATIONS)
    optimizer = (config.optimizer or "").strip().lower()
    if optimizer not in OPTIMIZERS:
        raise choice_error("optimizer", config.optimizer, OPTIMIZERS)
    hidden = config.hidden
    if isinstance(hidden, int):
        hidden = (hidden,)
    try:
        hidden = tuple(_int(h) for h in hidden)
    except (TypeError, ValueError):
        raise ConfigError("hidden", f"must be a list of 0 to {MAX_DEPTH} widths from 1 to {MAX_WIDTH}, "
                                    f"got {config.hidden!r}") from None
    if len(hidden) > MAX_DEPTH or any(not 1 <= h <= MAX_WIDTH for h in hidden):
        raise ConfigError("hidden", f"must be a list of 0 to {MAX_DEPTH} widths from 1 to {MAX_WIDTH}, "
                                    f"got {list(hidden)}")
    lr = parse_lr(config.lr)
    steps = _ranged("steps", config.steps, 1, MAX_STEPS)
    batch = _ranged("batch_size", config.batch_size, 0, 100_000)
    seed = _ranged("seed", config.seed, 0, 2**31 - 1)
    noise = _fraction("noise", config.noise, 0.0, MAX_NOISE)
    ratio = _fraction("ratio", config.ratio, 0.1, 0.9)
    reg = (config.regularization or "none").strip().lower()
    if reg not in REGULARIZATIONS:
        raise choice_error("regularization", config.regularization, REGULARIZATIONS)
    reg_rate = _fraction("reg_rate", config.reg_rate, 0.0, 10.0)
    features = parse_features(config.features)
    return PlaygroundConfig(dataset, hidden, activation, lr, optimizer, steps, batch, seed, noise, ratio, reg,
                            reg_rate, features)


def parse_features(value: Any) -> tuple[str, ...]:
    """`x1,x2,x1x2` or a list -> the canonical feature names, in FEATURES order, no repeats."""
    items = value.split(",") if isinstance(value, str) else list(value or ())
    names = []
    for item in items:
        key = str(item).strip().lower().replace(" ", "")
        key = FEATURE_ALIASES.get(key, key)
        if key not in FEATURES:
            raise choice_error("features", str(item).strip(), FEATURES)
        names.append(key)
    if not names:
        raise ConfigError("features", f"needs at least one input feature; allowed: {', '.join(FEATURES)}")
    return tuple(f for f in FEATURES if f in names)


def _fraction(name: str, value: Any, low: float, high: float) -> float:
    try:
        if isinstance(value, bool):
            raise ValueError(value)
        v = float(value)
    except (TypeError, ValueError):
        raise ConfigError(name, f"must be a number from {low:g} to {high:g}, got {value!r}") from None
    if not (math.isfinite(v) and low <= v <= high):
        raise ConfigError(name, f"must be a number from {low:g} to {high:g}, got {value!r}")
    return v


def config_from_preset(preset: dict[str, Any] | None) -> PlaygroundConfig:
    """A lesson's preset table -> a checked config; unknown keys are an error naming the allowed ones."""
    preset = dict(preset or {})
    unknown = sorted(set(preset) - set(PRESET_KEYS))
    if unknown:
        raise ConfigError("preset", f"unknown key {unknown[0]!r}; allowed: {', '.join(PRESET_KEYS)}")
    if "features" in preset and not isinstance(preset["features"], str):
        preset["features"] = tuple(preset["features"] or ())
    if "hidden" in preset and preset["hidden"] is not None and not isinstance(preset["hidden"], (int, list, tuple)):
        raise ConfigError("hidden", f"must be a list of widths, got {preset['hidden']!r}")
    return validate(PlaygroundConfig(**preset))


def _int(value: Any) -> int:
    if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
        raise ValueError(value)
    return int(value)


def _ranged(name: str, value: Any, low: int, high: int) -> int:
    try:
        v = _int(value)
    except (TypeError, ValueError):
        raise ConfigError(name, f"must be an integer from {low} to {high}, got {value!r}") from None
    if not low <= v <= high:
        raise ConfigError(name, f"must be an integer from {low} to {high}, got {value!r}")
    return v


def describe(config: PlaygroundConfig) -> str:
    """One line naming the network, e.g. '2 → 16 → 16 → 3, relu'."""
    from tui_lab.data import dataset_info

    classes = dataset_info(config.dataset).num_classes
    sizes = " → ".join(str(n) for n in (len(config.features), *config.hidden, classes))
    if not config.hidden:
        return f"{sizes}, linear model"
    return f"{sizes}, {config.activation}"


# --- data ------------------------------------------------------------------------------------


@lru_cache(maxsize=None)
def _data(dataset: str):
    from tui_lab.data import load_dataset

    return load_dataset(dataset)


@dataclass(frozen=True)
class PointData:
    """The points a playground trains and tests on (raw (x1, x2), before the features)."""

    train_x: Any
    train_y: Any
    val_x: Any  # the test points
    val_y: Any
    num_classes: int


def playground_data(config: PlaygroundConfig) -> PointData:
    """The data set's points with `noise` added (seeded by config.seed), split by `ratio`.

    The points keep the data set's shuffled order, so ratio 0.8 and noise 0 give exactly the
    embedded train / validation split."""
    import torch

    d = _data(config.dataset)
    if config.noise == 0 and config.ratio == DEFAULT_RATIO:
        return PointData(d.train_x, d.train_y, d.val_x, d.val_y, d.info.num_classes)
    x = torch.cat([d.train_x, d.val_x])
    y = torch.cat([d.train_y, d.val_y])
    if config.noise > 0:
        g = torch.Generator().manual_seed(config.seed + 7919)
        radius = x.abs().max()
        x = x + config.noise * radius * torch.randn(x.shape, generator=g)
    n_train = len(x) - int(round(len(x) * (1 - config.ratio)))
    return PointData(x[:n_train].contiguous(), y[:n_train].contiguous(), x[n_train:].contiguous(),
                     y[n_train:].contiguous(), d.info.num_classes)


def featurize(x, features: tuple[str, ...]):
    """(n, 2) points -> (n, len(features)) inputs, in the order of `features`."""
    import torch

    x1, x2 = x[:, 0], x[:, 1]
    make = {"x1": lambda: x1, "x2": lambda: x2, "x1^2": lambda: x1 * x1, "x2^2": lambda: x2 * x2,
            "x1x2": lambda: x1 * x2, "sin_x1": lambda: torch.sin(x1), "sin_x2": lambda: torch.sin(x2)}
    return torch.stack([make[f]() for f in features], 1)


def data_bounds(dataset: str, aspect: float = 1.0) -> Bounds:
    """A box around all points of the data set with a margin, widened to width/height = aspect."""
    import torch

    d = _data(dataset)
    return points_bounds(torch.cat([d.train_x, d.val_x]), aspect)


def points_bounds(pts, aspect: float = 1.0) -> Bounds:
    """A box around these (n, 2) points with a margin, widened to width/height = aspect."""
    lo, hi = pts.min(0).values.tolist(), pts.max(0).values.tolist()
    span = max(hi[0] - lo[0], hi[1] - lo[1])
    pad = MARGIN * span
    xmin, xmax, ymin, ymax = lo[0] - pad, hi[0] + pad, lo[1] - pad, hi[1] + pad
    w, h = xmax - xmin, ymax - ymin
    if w / h < aspect:  # too narrow: widen around the centre
        extra = (h * aspect - w) / 2
        xmin, xmax = xmin - extra, xmax + extra
    else:
        extra = (w / aspect - h) / 2
        ymin, ymax = ymin - extra, ymax + extra
    return Bounds(xmin, xmax, ymin, ymax)


# --- model -----------------------------------------------------------------------------------


def build_playground_model(config: PlaygroundConfig):
    """The network for a config, initialised from config.seed (depth 0 -> one nn.Linear)."""
    import torch

    from tui_lab.data import dataset_info
    from tui_lab.models import build_model

    info = dataset_info(config.dataset)
    features = config.features
    if features != ("x1", "x2"):
        info = replace(info, input_shape=(len(features),))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        if not config.hidden:
            net = build_model("linear", info)
        else:
            net = build_model("mlp", info, hidden=list(config.hidden), activation=config.activation)
    if features == ("x1", "x2"):
        return net
    return torch.nn.Sequential(_feature_layer(features), net)


def _feature_layer(features: tuple[str, ...]):
    """A module computing the input features from (x1, x2), so the model takes raw points."""
    from torch import nn

    class Features(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.features = features

        def forward(self, x):
            return featurize(x, self.features)

        def extra_repr(self) -> str:
            return ", ".join(self.features)

    return Features()


def linear_layers(model) -> list:
    """The nn.Linear layers of a model, input side first."""
    from torch import nn

    return [m for m in _leaves(model) if isinstance(m, nn.Linear)]


def penalty(model, kind: str, rate: float):
    """rate x sum |w| (l1) or rate x sum w^2 (l2) over the linear layers' weights; None for none."""
    if kind == "none" or rate == 0:
        return None
    weights = [layer.weight for layer in linear_layers(model)]
    if kind == "l1":
        return rate * sum(w.abs().sum() for w in weights)
    return rate * sum((w * w).sum() for w in weights)


def hidden_outputs(model, x) -> list:
    """Each hidden layer's output (after its activation) for inputs x: the leaves run in order,
    which is the model's own forward pass for these sequential networks (a test checks it)."""
    from torch import nn

    outs = []
    h, previous = x, None
    for leaf in _leaves(model):
        h = leaf(h)
        if isinstance(previous, nn.Linear) and not isinstance(leaf, nn.Linear):
            outs.append(h)  # the activation (Identity for 'none') after a hidden linear layer
        previous = leaf
    return outs


def collapse_linear(model) -> tuple[Any, Any]:
    """Compose the layers of a network without non-linearities into one (W, b).

    Each nn.Linear maps x -> A x + c; applied after the running (W, b) it gives (A W, A b + c).
    Identity and Flatten (on 2-D input) change nothing. Any other layer is non-linear, and the
    network does not collapse: ConfigError("activation", ...).
    """
    import torch
    from torch import nn

    weight: Any = None
    bias: Any = None
    count = 0
    for layer in _leaves(model):
        if isinstance(layer, (nn.Identity, nn.Flatten)):
            continue
        if isinstance(layer, nn.Linear):
            a = layer.weight.detach().double()
            c = layer.bias.detach().double() if layer.bias is not None else torch.zeros(a.shape[0], dtype=torch.float64)
            if weight is None:
                weight, bias = a.clone(), c.clone()
            else:
                weight, bias = a @ weight, a @ bias + c
            count += 1
            continue
        raise ConfigError("activation", f"the network has a non-linear layer ({type(layer).__name__}); "
                                        "only a network with activation 'none' collapses to one Wx+b")
    if weight is None:
        raise ConfigError("model", "the network has no linear layer")
    return weight, bias


def linear_layer_count(model) -> int:
    from torch import nn

    return sum(isinstance(m, nn.Linear) for m in _leaves(model))


def _leaves(model):
    children = list(model.children())
    if not children:
        yield model
        return
    for child in children:
        yield from _leaves(child)


def grid_points(bounds: Bounds, cols: int, rows: int):
    """Cell centres as a (rows*cols, 2) float32 tensor, row-major from the top-left."""
    import torch

    xs = torch.tensor([bounds.cell_centre(c, 0, cols, rows)[0] for c in range(cols)], dtype=torch.float64)
    ys = torch.tensor([bounds.cell_centre(0, r, cols, rows)[1] for r in range(rows)], dtype=torch.float64)
    gy, gx = torch.meshgrid(ys, xs, indexing="ij")
    return torch.stack([gx.reshape(-1), gy.reshape(-1)], 1).float()


def decision_grid(model, bounds: Bounds, cols: int, rows: int):
    """(classes, confidence): the predicted class and its softmax probability at every cell centre."""
    import torch

    if cols < 1 or rows < 1:
        raise ConfigError("grid", f"needs at least 1x1 cells, got {cols}x{rows}")
    with torch.no_grad():
        probs = torch.softmax(model(grid_points(bounds, cols, rows)), dim=1)
        conf, cls = probs.max(dim=1)
    cls_rows = tuple(tuple(r) for r in cls.reshape(rows, cols).tolist())
    conf_rows = tuple(tuple(r) for r in conf.reshape(rows, cols).tolist())
    return cls_rows, conf_rows


# --- training --------------------------------------------------------------------------------


class Playground:
    """One model, its optimizer and data, trained a few steps at a time.

    Thread-safe: a lock guards the model, so a worker that is still finishing a chunk and a new
    one that continues the same run never step at the same time.
    """

    def __init__(self, config: PlaygroundConfig) -> None:
        import torch

        from tui_lab.optimizers import make_optimizer

        self.config = config = validate(config)
        self.data = playground_data(config)
        self.grad_norms: tuple[float, ...] = ()
        self.model = build_playground_model(config)
        self.optimizer = make_optimizer(config.optimizer, self.model.parameters(), config.lr)
        self.generator = torch.Generator().manual_seed(config.seed)
        self.step = 0
        self.diverged = False
        self.lock = threading.Lock()
        self._order: Any = None
        self._cursor = 0
        x, y = self.data.train_x.tolist(), self.data.train_y.tolist()
        self.points = tuple((round(a, 6), round(b, 6), int(c)) for (a, b), c in zip(x, y))

    def _batch(self):
        import torch

        x, y = self.data.train_x, self.data.train_y
        b = self.config.batch_size
        if b <= 0 or b >= len(x):
            return x, y
        if self._order is None or self._cursor + b > len(x):
            self._order = torch.randperm(len(x), generator=self.generator)
            self._cursor = 0
        idx = self._order[self._cursor:self._cursor + b]
        self._cursor += b
        return x[idx], y[idx]

    def train(self, n: int) -> None:
        """Take n optimizer steps (cross-entropy on a full batch or a minibatch)."""
        import torch
        import torch.nn.functional as F

        with self.lock, one_thread():
            if self.diverged:
                return
            self.model.train()
            cfg = self.config
            layers = linear_layers(self.model)
            for k in range(n):
                x, y = self._batch()
                self.optimizer.zero_grad(set_to_none=True)
                loss = F.cross_entropy(self.model(x), y)
                extra = penalty(self.model, cfg.regularization, cfg.reg_rate)
                if extra is not None:
                    loss = loss + extra
                loss.backward()
                if k == n - 1:  # the gradient norms the frame shows: one read-back per chunk
                    norms = torch.stack([torch.linalg.vector_norm(m.weight.grad) for m in layers])
                    self.grad_norms = tuple(norms.tolist())
                self.optimizer.step()
                self.step += 1
                if not torch.isfinite(loss):
                    self.diverged = True
                    return

    def bounds(self, aspect: float) -> Bounds:
        import torch

        if self.config.noise == 0:
            return data_bounds(self.config.dataset, aspect)
        return points_bounds(torch.cat([self.data.train_x, self.data.val_x]), aspect)

    def frame(self, cols: int = 46, rows: int = 40, neuron_size: tuple[int, int] | None = None) -> PlaygroundFrame:
        """The numbers and maps now; `neuron_size` (cols, rows) adds every hidden unit's output map."""
        import torch
        import torch.nn.functional as F

        with self.lock, one_thread():
            model = self.model
            model.eval()
            d = self.data
            with torch.no_grad():
                out = model(d.train_x)
                loss = F.cross_entropy(out, d.train_y).item()
                acc = (out.argmax(1) == d.train_y).float().mean().item()
                val_out = model(d.val_x)
                test_loss = F.cross_entropy(val_out, d.val_y).item()
                val_acc = (val_out.argmax(1) == d.val_y).float().mean().item()
            bounds = self.bounds(cols / rows)
            grid, conf = decision_grid(model, bounds, cols, rows)
            collapse = None
            if self.config.is_linear:
                collapse = self._collapse(bounds, cols, rows)
            neurons = self._neurons(*neuron_size) if neuron_size else ()
            return PlaygroundFrame(self.step, loss, acc, val_acc, grid, conf, bounds, self.points,
                                   d.num_classes, self.config, collapse,
                                   self.diverged or not math.isfinite(loss), test_loss, self.grad_norms, neurons)

    def _neurons(self, cols: int, rows: int):
        """[layer][unit] -> rows x cols outputs of that hidden unit over the map (TF Playground's
        small squares)."""
        import torch

        pts = grid_points(self.bounds(cols / rows), cols, rows)
        with torch.no_grad():
            outs = hidden_outputs(self.model, pts)
        return tuple(tuple(tuple(tuple(r) for r in unit.reshape(rows, cols).tolist()) for unit in layer.T)
                     for layer in outs)

    def _collapse(self, bounds: Bounds, cols: int, rows: int) -> LinearCollapse:
        import torch

        w, b = collapse_linear(self.model)
        pts = grid_points(bounds, cols, rows)
        with torch.no_grad():
            err = (pts.double() @ w.T + b - self.model(pts).double()).abs().max().item()
        return LinearCollapse(tuple(tuple(r) for r in w.tolist()), tuple(b.tolist()),
                              linear_layer_count(self.model), err)

    def run(self, steps: int | None = None, cancel: Any = None, cols: int = 46, rows: int = 40,
            every: int = 10, min_interval: float = 0.0,
            size: Callable[[], tuple[int, int]] | None = None,
            neuron_size: tuple[int, int] | None = None) -> Iterator[PlaygroundFrame]:
        """Train `steps` more steps (config.steps by default), yielding a frame every `every` steps
        and at the end; stops early when `cancel` is set or training diverges.

        min_interval paces the frames (seconds) so a learner can watch a fast run unfold; `size`,
        when given, is asked for (cols, rows) before each frame (a map that can be resized).
        """
        target = self.step + (self.config.steps if steps is None else steps)
        is_cancelled = _cancel_check(cancel)
        last = time.monotonic()
        while self.step < target and not self.diverged:
            if is_cancelled():
                return
            self.train(min(every, target - self.step))
            if min_interval > 0:
                wait = min_interval - (time.monotonic() - last)
                if wait > 0:
                    time.sleep(wait)
                last = time.monotonic()
            if is_cancelled():
                return
            if size is not None:
                cols, rows = size()
            yield self.frame(cols, rows, neuron_size)


@contextmanager
def one_thread():
    """Run torch on one CPU thread for a while.

    These networks are tiny: with several intra-op threads each step waits on thread hand-offs
    (measured 17 ms/step with 2 threads on a busy 2-core machine, 2 ms with 1). The setting is
    process-wide, so it is restored at once.
    """
    import torch

    before = torch.get_num_threads()
    if before != 1:
        torch.set_num_threads(1)
    try:
        yield
    finally:
        if before != 1:
            torch.set_num_threads(before)


def _cancel_check(cancel: Any) -> Callable[[], bool]:
    if cancel is None:
        return lambda: False
    if hasattr(cancel, "is_set"):
        return cancel.is_set
    if callable(cancel):
        return cancel
    raise TypeError("cancel must be None, a threading.Event or a callable returning bool")


def train_playground(config: PlaygroundConfig, cancel: Any = None, cols: int = 46, rows: int = 40,
                     every: int = 10) -> Iterator[PlaygroundFrame]:
    """A whole run: the frame before training (step 0), then one every `every` steps to config.steps."""
    pg = Playground(config)
    yield pg.frame(cols, rows)
    yield from pg.run(cancel=cancel, cols=cols, rows=rows, every=every)


def boundary_text(collapse: LinearCollapse, num_classes: int) -> str:
    """For two classes, the straight boundary the collapsed network draws: a x + b y + c = 0."""
    if num_classes != 2:
        return f"{num_classes} classes: each pair is split by a straight line"
    (w00, w01), (w10, w11) = collapse.weight
    a, b, c = w10 - w00, w11 - w01, collapse.bias[1] - collapse.bias[0]
    return f"boundary {a:.2f}x {'+' if b >= 0 else '−'} {abs(b):.2f}y {'+' if c >= 0 else '−'} {abs(c):.2f} = 0"


REGION_CHARS = ".-~:="  # class of the region, one per class
POINT_CHARS = "ox+*#"  # label of a training point drawn on top


def ascii_map(frame: PlaygroundFrame) -> list[str]:
    """The decision map as plain text, two pixel rows per line like the screen's half blocks.

    A region shows its class as . - ~ (class 0, 1, 2); a training point its label as o x +,
    drawn on top (an 'x' among '.' is a misclassified point). For a CLI or a test.
    """
    rows, cols = frame.rows, frame.cols
    marks: dict[tuple[int, int], int] = {}
    for x, y, label in frame.points:
        cell = frame.bounds.cell_of(x, y, cols, rows)
        if cell is not None:
            marks[(cell[0] // 2, cell[1])] = label
    lines = []
    for r in range(0, rows, 2):
        line = []
        for c in range(cols):
            mark = marks.get((r // 2, c))
            if mark is not None:
                line.append(POINT_CHARS[mark % len(POINT_CHARS)])
            else:
                line.append(REGION_CHARS[frame.grid[r][c] % len(REGION_CHARS)])
        lines.append("".join(line))
    return lines


def frame_summary(frame: PlaygroundFrame) -> dict[str, Any]:
    """The numbers of a frame as plain JSON-ready values (no grid): for `--json` output."""
    c = frame.config
    collapse = None
    if frame.collapse is not None:
        collapse = {"weight": [list(r) for r in frame.collapse.weight], "bias": list(frame.collapse.bias),
                    "layers": frame.collapse.layers, "max_error": frame.collapse.max_error,
                    "boundary": boundary_text(frame.collapse, frame.num_classes)}
    b = frame.bounds
    return {
        "dataset": c.dataset, "hidden": list(c.hidden), "activation": c.activation, "optimizer": c.optimizer,
        "lr": c.lr, "batch_size": c.batch_size, "seed": c.seed, "network": describe(c),
        "noise": c.noise, "ratio": c.ratio, "regularization": c.regularization, "reg_rate": c.reg_rate,
        "features": list(c.features),
        "step": frame.step, "loss": frame.loss, "accuracy": frame.accuracy, "val_accuracy": frame.val_accuracy,
        "train_loss": frame.loss, "test_loss": frame.test_loss, "train_accuracy": frame.accuracy,
        "test_accuracy": frame.val_accuracy, "grad_norms": list(frame.grad_norms),
        "diverged": frame.diverged, "linear": c.is_linear, "collapse": collapse,
        "bounds": [b.xmin, b.xmax, b.ymin, b.ymax], "cols": frame.cols, "rows": frame.rows,
    }


__all__ = [
    "DATASETS", "ACTIVATIONS", "OPTIMIZERS", "MAX_DEPTH", "MAX_WIDTH", "PRESET_KEYS", "FEATURES",
    "REGULARIZATIONS", "PointData", "playground_data", "featurize", "parse_features", "penalty",
    "hidden_outputs", "linear_layers", "points_bounds",
    "PlaygroundConfig", "Bounds", "LinearCollapse", "PlaygroundFrame", "Playground",
    "validate", "config_from_preset", "describe", "data_bounds", "build_playground_model",
    "collapse_linear", "grid_points", "decision_grid", "train_playground", "boundary_text",
    "ascii_map", "frame_summary",
]

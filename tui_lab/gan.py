"""A 2-D GAN, GAN Lab style: a generator turns noise into points, a discriminator learns to tell
them from real ones, and each learns from the other.

`GanSession(config)` holds both networks, their optimizers and a seeded stream of real points;
`train(n)` takes n alternating updates (`d_steps` discriminator steps, then one generator step) and
`frame(cols, rows, ...)` measures where things stand: the real and generated points, the
discriminator's probability "real" over the plane, the generator's gradient arrows (where D pushes
a generated point), both losses, the energy distance between 1,000 generated and 1,000 real points
and how many of the data's modes the generated points cover. `GanSession.run(control=...)` streams
frames and obeys a `GanControl` (pause, single steps, live `lr_g` / `lr_d`).

The losses are PyTorch's `binary_cross_entropy_with_logits` on D's logit:

    d_loss = BCE(D(x_real), 1) + BCE(D(G(z)), 0)
    g_loss = BCE(D(G(z)), 1)              non-saturating (the default): -log D(G(z))
    g_loss = -BCE(D(G(z)), 0)             minimax: log(1 - D(G(z))), flat where D is sure
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, fields, replace
from typing import Any, Iterator

from tui_lab.control import RunControl
from tui_lab.errors import ConfigError, choice_error

DATASETS = ("ring", "moons", "gaussians")
LOSSES = ("nonsaturating", "minimax")
OPTIMIZERS = ("adam", "sgd")
MAX_STEPS = 100_000
MAX_WIDTH = 256
EVAL_POINTS = 1000  # generated and real points behind the distance and the modes
SHOW_POINTS = 250  # of each, drawn on the map
GAUSSIAN_STD = 0.05  # of each of the 8 Gaussians, on a circle of radius 1
RING_STD = 0.03  # radial noise of the ring
MODE_RADIUS = 0.15  # a generated point is "on" a mode within this distance (3 std of a Gaussian)
MODE_SHARE = 0.02  # a mode is covered when at least this share of generated points is on it
BOUNDS = (-1.6, 1.6, -1.6, 1.6)  # the plane drawn: xmin, xmax, ymin, ymax
PRESET_KEYS = ("data", "steps", "lr_g", "lr_d", "seed", "batch_size", "g_hidden", "d_hidden", "d_steps", "loss",
               "optimizer", "noise_dim")
LIVE = ("lr_g", "lr_d")  # what a GanControl may change while the session runs


@dataclass(frozen=True)
class GanConfig:
    data: str = "ring"
    steps: int = 1500  # updates in one run (a session can go on)
    lr_g: float = 0.002
    lr_d: float = 0.002
    seed: int = 0
    batch_size: int = 128
    g_hidden: int = 64  # width of the generator's two hidden layers
    d_hidden: int = 64  # width of the discriminator's two hidden layers
    d_steps: int = 1  # discriminator updates per generator update
    loss: str = "nonsaturating"
    optimizer: str = "adam"  # adam has betas (0.5, 0.999), as DCGAN
    noise_dim: int = 2


@dataclass(frozen=True)
class GanFrame:
    step: int
    d_loss: float  # on the 1,000 evaluation points: BCE(D(real), 1) + BCE(D(G(z)), 0)
    g_loss: float  # the generator's loss (config.loss) on the 1,000 generated points
    distance: float  # energy distance between the 1,000 generated and 1,000 real points
    modes: int  # modes covered by the generated points (see modes_covered)
    modes_total: int
    on_mode: float  # share of generated points within MODE_RADIUS of a mode
    d_real: float  # mean D(x) on real points (probability "real")
    d_fake: float  # mean D(G(z)) on generated points
    spread: float  # generated points' spread / the real points' (root of the summed variances)
    real: tuple[tuple[float, float], ...]  # SHOW_POINTS real points
    fake: tuple[tuple[float, float], ...]  # SHOW_POINTS generated points
    fake_grad: tuple[tuple[float, float], ...]  # -d g_loss / d x at each shown generated point (per point)
    grid: tuple[tuple[float, ...], ...]  # D's probability "real" at each cell centre, rows x cols, row 0 on top
    field: tuple[tuple[tuple[float, float], ...], ...]  # -d g_loss / d x at coarse cell centres
    bounds: tuple[float, float, float, float]
    config: GanConfig
    diverged: bool = False

    @property
    def rows(self) -> int:
        return len(self.grid)

    @property
    def cols(self) -> int:
        return len(self.grid[0]) if self.grid else 0


# --- configuration ---------------------------------------------------------------------------


def validate(config: GanConfig) -> GanConfig:
    """Check and normalise a configuration; raises ConfigError naming the field."""
    from tui_lab.optimizers import parse_lr

    data = str(config.data or "").strip().lower()
    if data not in DATASETS:
        raise choice_error("data", config.data, DATASETS)
    loss = str(config.loss or "").strip().lower().replace("-", "")
    if loss not in LOSSES:
        raise choice_error("loss", config.loss, LOSSES)
    optimizer = str(config.optimizer or "").strip().lower()
    if optimizer not in OPTIMIZERS:
        raise choice_error("optimizer", config.optimizer, OPTIMIZERS)
    return GanConfig(
        data=data, steps=_ranged("steps", config.steps, 1, MAX_STEPS),
        lr_g=parse_lr(config.lr_g, "lr_g"), lr_d=parse_lr(config.lr_d, "lr_d"),
        seed=_ranged("seed", config.seed, 0, 2**31 - 1), batch_size=_ranged("batch_size", config.batch_size, 1, 4096),
        g_hidden=_ranged("g_hidden", config.g_hidden, 1, MAX_WIDTH),
        d_hidden=_ranged("d_hidden", config.d_hidden, 1, MAX_WIDTH),
        d_steps=_ranged("d_steps", config.d_steps, 1, 20), loss=loss, optimizer=optimizer,
        noise_dim=_ranged("noise_dim", config.noise_dim, 1, 16))


def config_from_preset(preset: dict[str, Any] | None) -> GanConfig:
    """A lesson's preset table -> a checked config; unknown keys are an error naming the allowed ones."""
    preset = dict(preset or {})
    unknown = sorted(set(preset) - set(PRESET_KEYS))
    if unknown:
        raise ConfigError("preset", f"unknown key {unknown[0]!r}; allowed: {', '.join(PRESET_KEYS)}")
    return validate(GanConfig(**preset))


def _ranged(name: str, value: Any, low: int, high: int) -> int:
    try:
        if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
            raise ValueError(value)
        v = int(value)
    except (TypeError, ValueError):
        raise ConfigError(name, f"must be an integer from {low} to {high}, got {value!r}") from None
    if not low <= v <= high:
        raise ConfigError(name, f"must be an integer from {low} to {high}, got {value!r}")
    return v


def describe_networks(config: GanConfig) -> str:
    """'G 2→64→64→2 · D 2→64→64→1'."""
    c = config
    return f"G {c.noise_dim}→{c.g_hidden}→{c.g_hidden}→2 · D 2→{c.d_hidden}→{c.d_hidden}→1"


def describe(config: GanConfig) -> str:
    """One line: 'G 2→64→64→2 · D 2→64→64→1 · adam lr_g 0.002 lr_d 0.002'."""
    c = config
    k = f" · {c.d_steps} D steps per G step" if c.d_steps > 1 else ""
    return f"{describe_networks(c)} · {c.optimizer} lr_g {c.lr_g:g} lr_d {c.lr_d:g}{k}"


# --- data --------------------------------------------------------------------------------------


def mode_centres(data: str) -> list[tuple[float, float]]:
    """The points whose coverage counts as 'modes': the 8 Gaussians' means; 8 points spread over
    the ring (every 45°) or along the two moons (4 on each)."""
    if data in ("ring", "gaussians"):
        return [(math.cos(k * math.pi / 4), math.sin(k * math.pi / 4)) for k in range(8)]
    if data == "moons":
        out = []
        for k in range(4):
            t = (k + 0.5) * math.pi / 4
            out.append(_moon_point(t, 0))
            out.append(_moon_point(t, 1))
        return out
    raise choice_error("data", data, DATASETS)


def _moon_point(t: float, which: int) -> tuple[float, float]:
    # scikit-learn's make_moons, centred on 0 and scaled by 0.8: upper moon (cos t, sin t),
    # lower moon (1 - cos t, 0.5 - sin t)
    if which == 0:
        x, y = math.cos(t), math.sin(t)
    else:
        x, y = 1 - math.cos(t), 0.5 - math.sin(t)
    return (0.8 * (x - 0.5), 0.8 * (y - 0.25))


def sample_real(data: str, n: int, generator) -> Any:
    """n points of a data set as an (n, 2) float32 tensor, drawn with this torch.Generator.

    ring: radius 1 with radial noise RING_STD; gaussians: 8 Gaussians of std GAUSSIAN_STD whose
    means sit on the unit circle at every 45°; moons: scikit-learn's two moons (noise 0.05), centred
    and scaled by 0.8. All fit in BOUNDS."""
    import torch

    if data == "ring":
        angle = torch.rand(n, generator=generator) * (2 * math.pi)
        radius = 1 + RING_STD * torch.randn(n, generator=generator)
        return torch.stack([radius * torch.cos(angle), radius * torch.sin(angle)], 1)
    if data == "gaussians":
        k = torch.randint(0, 8, (n,), generator=generator).float()
        means = torch.stack([torch.cos(k * math.pi / 4), torch.sin(k * math.pi / 4)], 1)
        return means + GAUSSIAN_STD * torch.randn(n, 2, generator=generator)
    if data == "moons":
        which = torch.randint(0, 2, (n,), generator=generator).float()
        t = torch.rand(n, generator=generator) * math.pi
        x = torch.where(which == 0, torch.cos(t), 1 - torch.cos(t))
        y = torch.where(which == 0, torch.sin(t), 0.5 - torch.sin(t))
        pts = torch.stack([x, y], 1) + 0.05 * torch.randn(n, 2, generator=generator)
        return 0.8 * (pts - torch.tensor([0.5, 0.25]))
    raise choice_error("data", data, DATASETS)


# --- measures ----------------------------------------------------------------------------------


def energy_distance(x, y) -> float:
    """The (squared) energy distance between two point sets, as their empirical distributions:

        2 E|X - Y| - E|X - X'| - E|Y - Y'|

    each expectation the mean over all pairs (i = j included, so it is >= 0 and 0 only for equal
    sets), with Euclidean norms; computed in float64."""
    import torch

    x, y = x.double(), y.double()
    if x.ndim != 2 or y.ndim != 2 or x.shape[1] != y.shape[1] or not len(x) or not len(y):
        raise ConfigError("points", f"need two non-empty (n, d) sets, got {tuple(x.shape)} and {tuple(y.shape)}")
    xy = torch.cdist(x, y).mean()
    xx = torch.cdist(x, x).mean()
    yy = torch.cdist(y, y).mean()
    return float(2 * xy - xx - yy)


def modes_covered(points, data: str) -> tuple[int, int, float]:
    """(covered, total, on_mode): a mode is covered when at least MODE_SHARE of the points lie within
    MODE_RADIUS of its centre; on_mode is the share of points within MODE_RADIUS of any centre."""
    import torch

    centres = torch.tensor(mode_centres(data), dtype=points.dtype)
    d = torch.cdist(points, centres)  # (n, modes)
    near = d <= MODE_RADIUS
    counts = near.sum(0)
    covered = int((counts >= MODE_SHARE * len(points)).sum())
    return covered, len(centres), float(near.any(1).float().mean())


# --- networks ----------------------------------------------------------------------------------


def build_networks(config: GanConfig):
    """(generator, discriminator), initialised from config.seed: two hidden layers each, ReLU in G,
    LeakyReLU(0.2) in D (as DCGAN), D outputs one logit."""
    import torch
    from torch import nn

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        g = nn.Sequential(nn.Linear(config.noise_dim, config.g_hidden), nn.ReLU(),
                          nn.Linear(config.g_hidden, config.g_hidden), nn.ReLU(), nn.Linear(config.g_hidden, 2))
        d = nn.Sequential(nn.Linear(2, config.d_hidden), nn.LeakyReLU(0.2),
                          nn.Linear(config.d_hidden, config.d_hidden), nn.LeakyReLU(0.2), nn.Linear(config.d_hidden, 1))
    return g, d


def _optimizer(name: str, params, lr: float):
    import torch

    if name == "adam":
        return torch.optim.Adam(params, lr=lr, betas=(0.5, 0.999))
    return torch.optim.SGD(params, lr=lr)


def d_loss_of(d_real_logits, d_fake_logits):
    """BCE(D(real), 1) + BCE(D(fake), 0), from D's logits."""
    import torch
    import torch.nn.functional as F

    return (F.binary_cross_entropy_with_logits(d_real_logits, torch.ones_like(d_real_logits))
            + F.binary_cross_entropy_with_logits(d_fake_logits, torch.zeros_like(d_fake_logits)))


def g_loss_of(d_fake_logits, loss: str = "nonsaturating", reduction: str = "mean"):
    """The generator's loss from D's logits on generated points: BCE(D(G(z)), 1) = -log D(G(z))
    (non-saturating) or -BCE(D(G(z)), 0) = log(1 - D(G(z))) (minimax)."""
    import torch
    import torch.nn.functional as F

    if loss == "minimax":
        return -F.binary_cross_entropy_with_logits(d_fake_logits, torch.zeros_like(d_fake_logits), reduction=reduction)
    return F.binary_cross_entropy_with_logits(d_fake_logits, torch.ones_like(d_fake_logits), reduction=reduction)


def generator_push(discriminator, points, loss: str = "nonsaturating"):
    """-d/dx of the generator's per-point loss at each point: the direction (and strength) in which
    the discriminator pushes a generated point there. (n, 2) tensor."""
    import torch

    x = points.detach().clone().requires_grad_(True)
    with torch.enable_grad():
        per_point = g_loss_of(discriminator(x).squeeze(1), loss, reduction="none")
        (grad,) = torch.autograd.grad(per_point.sum(), x)
    return -grad


# --- the session -------------------------------------------------------------------------------


class GanControl(RunControl):
    """RunControl for a GAN session: pause / resume / cancel, single updates while paused
    (`request_steps`), and live `lr_g` / `lr_d` (`set_hyperparameters(lr_g=..., lr_d=...)`).
    Every request wakes a waiting session at once."""

    def __init__(self, paused: bool = False) -> None:
        super().__init__()
        self._paused = paused
        self._single = 0
        self._wake = threading.Event()

    def set_hyperparameters(self, **values: Any) -> None:
        from tui_lab.optimizers import parse_lr

        for name in values:
            if name not in LIVE:
                raise ConfigError(name, f"cannot be changed while the GAN runs; allowed: {', '.join(LIVE)}")
        checked = {name: parse_lr(value, name) for name, value in values.items()}
        with self._lock:
            self._pending.update(checked)
        self._wake.set()

    @property
    def paused(self) -> bool:
        return self._paused

    def pause(self) -> None:
        with self._lock:
            self._paused, self._single = True, 0

    def resume(self) -> None:
        self._paused = False
        self._wake.set()

    def cancel(self) -> None:
        super().cancel()
        self._wake.set()

    def request_steps(self, n: int = 1) -> None:
        """While paused: take n more updates, then wait again."""
        with self._lock:
            self._single += n
        self._wake.set()

    def take_single(self) -> int:
        with self._lock:
            n, self._single = self._single, 0
        return n

    def wait(self, timeout: float) -> None:
        """Block until a request arrives (or timeout seconds pass)."""
        self._wake.wait(timeout)
        self._wake.clear()


class GanSession:
    """Both networks, their optimizers and the real data stream, trained a few updates at a time.

    Thread-safe: a lock guards the networks (a screen reads frames while a worker trains)."""

    def __init__(self, config: GanConfig) -> None:
        import torch

        self.config = config = validate(config)
        self.G, self.D = build_networks(config)
        self.opt_g = _optimizer(config.optimizer, self.G.parameters(), config.lr_g)
        self.opt_d = _optimizer(config.optimizer, self.D.parameters(), config.lr_d)
        self.lr_g, self.lr_d = config.lr_g, config.lr_d
        self.rng = torch.Generator().manual_seed(config.seed)  # real batches and noise while training
        ev = torch.Generator().manual_seed(10_007 + config.seed)  # the fixed evaluation sets
        self.real_eval = sample_real(config.data, EVAL_POINTS, ev)
        self.z_eval = torch.randn(EVAL_POINTS, config.noise_dim, generator=ev)
        self.step = 0
        self.diverged = False
        self.lock = threading.Lock()
        self.last_losses = (math.nan, math.nan)  # (d, g) of the last training batch

    def set_lrs(self, lr_g: float | None = None, lr_d: float | None = None) -> None:
        with self.lock:
            if lr_g is not None:
                self.lr_g = lr_g
                for group in self.opt_g.param_groups:
                    group["lr"] = lr_g
            if lr_d is not None:
                self.lr_d = lr_d
                for group in self.opt_d.param_groups:
                    group["lr"] = lr_d

    def train(self, n: int) -> None:
        """n updates of G, each after config.d_steps updates of D, on fresh real and noise batches."""
        import torch

        from tui_lab.playground import one_thread

        cfg = self.config
        with self.lock, one_thread():
            for _ in range(n):
                if self.diverged:
                    return
                for _ in range(cfg.d_steps):
                    real = sample_real(cfg.data, cfg.batch_size, self.rng)
                    z = torch.randn(cfg.batch_size, cfg.noise_dim, generator=self.rng)
                    with torch.no_grad():
                        fake = self.G(z)
                    self.opt_d.zero_grad(set_to_none=True)
                    d_loss = d_loss_of(self.D(real).squeeze(1), self.D(fake).squeeze(1))
                    d_loss.backward()
                    self.opt_d.step()
                z = torch.randn(cfg.batch_size, cfg.noise_dim, generator=self.rng)
                self.opt_g.zero_grad(set_to_none=True)
                g_loss = g_loss_of(self.D(self.G(z)).squeeze(1), cfg.loss)
                g_loss.backward()
                self.opt_g.step()
                self.step += 1
                if not (torch.isfinite(d_loss) and torch.isfinite(g_loss)):
                    self.diverged = True
                    return
            self.last_losses = (float(d_loss.detach()), float(g_loss.detach()))

    def measure(self) -> dict[str, float]:
        """The numbers of a frame without the maps: losses on the evaluation sets, distance, modes."""
        import torch

        from tui_lab.playground import one_thread

        with self.lock, one_thread(), torch.no_grad():
            return self._measure()[0]

    def _measure(self):
        import torch

        fake = self.G(self.z_eval)
        real_logits = self.D(self.real_eval).squeeze(1)
        fake_logits = self.D(fake).squeeze(1)
        d_loss = float(d_loss_of(real_logits, fake_logits))
        g_loss = float(g_loss_of(fake_logits, self.config.loss))
        finite = bool(torch.isfinite(fake).all())
        distance = energy_distance(fake, self.real_eval) if finite else math.nan
        modes, total, on_mode = modes_covered(fake, self.config.data) if finite else (0, 8, 0.0)
        numbers = {"step": self.step, "d_loss": d_loss, "g_loss": g_loss, "distance": distance, "modes": modes,
                   "modes_total": total, "on_mode": on_mode, "d_real": float(torch.sigmoid(real_logits).mean()),
                   "d_fake": float(torch.sigmoid(fake_logits).mean()),
                   "spread": float(fake.var(0).sum().sqrt() / self.real_eval.var(0).sum().sqrt()) if finite else math.nan}
        return numbers, fake

    def frame(self, cols: int = 46, rows: int = 40, field_cols: int = 12, field_rows: int = 10) -> GanFrame:
        """The numbers now and the maps: D's probability on cols x rows cell centres, the push on a
        coarse field_cols x field_rows grid and at the shown generated points."""
        import torch

        from tui_lab.playground import one_thread

        if cols < 1 or rows < 1 or field_cols < 1 or field_rows < 1:
            raise ConfigError("grid", f"needs at least 1x1 cells, got {cols}x{rows} and {field_cols}x{field_rows}")
        with self.lock, one_thread():
            with torch.no_grad():
                numbers, fake = self._measure()
                grid = torch.sigmoid(self.D(grid_centres(cols, rows)).squeeze(1)).reshape(rows, cols)
            shown_fake = fake[:SHOW_POINTS]
            push = generator_push(self.D, shown_fake, self.config.loss)
            field = generator_push(self.D, grid_centres(field_cols, field_rows), self.config.loss)
        diverged = self.diverged or not math.isfinite(numbers["distance"])
        return GanFrame(
            step=self.step, d_loss=numbers["d_loss"], g_loss=numbers["g_loss"], distance=numbers["distance"],
            modes=numbers["modes"], modes_total=numbers["modes_total"], on_mode=numbers["on_mode"],
            d_real=numbers["d_real"], d_fake=numbers["d_fake"], spread=numbers["spread"],
            real=_pairs(self.real_eval[:SHOW_POINTS]), fake=_pairs(shown_fake), fake_grad=_pairs(push),
            grid=tuple(tuple(r) for r in grid.tolist()),
            field=tuple(tuple(tuple(v) for v in row) for row in field.reshape(field_rows, field_cols, 2).tolist()),
            bounds=BOUNDS, config=self.config, diverged=diverged)

    def run(self, steps: int | None = None, control: RunControl | None = None, every: int = 10,
            size: Any = None, min_interval: float = 0.0) -> Iterator[GanFrame]:
        """Train `steps` more updates (config.steps by default), a frame every `every` updates.

        With a GanControl: paused, it waits (a requested single step runs one update and yields its
        frame); live lr_g / lr_d changes apply before the next update; cancel ends the stream.
        `size`, when given, is asked for (cols, rows, field_cols, field_rows) before each frame."""
        import time

        target = self.step + (self.config.steps if steps is None else steps)
        dims = size() if size is not None else (46, 40, 12, 10)
        last = time.monotonic()
        while self.step < target and not self.diverged:
            if control is not None:
                if control.cancelled:
                    return
                changes = control.take_changes()
                if changes:
                    self.set_lrs(changes.get("lr_g"), changes.get("lr_d"))
                single = control.take_single() if isinstance(control, GanControl) else 0
                if control.paused and not single:
                    if changes:  # show the new rates at once
                        yield self.frame(*dims)
                    if isinstance(control, GanControl):
                        control.wait(0.5)
                    else:
                        control.wait_while_paused()
                    continue
                n = single if control.paused else every
            else:
                n = every
            self.train(min(n, target - self.step))
            if min_interval > 0:
                wait = min_interval - (time.monotonic() - last)
                if wait > 0:
                    time.sleep(wait)
                last = time.monotonic()
            if size is not None:
                dims = size()
            yield self.frame(*dims)


def grid_centres(cols: int, rows: int):
    """Cell centres of the drawn plane as (rows*cols, 2), row-major from the top-left."""
    import torch

    xmin, xmax, ymin, ymax = BOUNDS
    xs = xmin + (torch.arange(cols, dtype=torch.float64) + 0.5) * (xmax - xmin) / cols
    ys = ymax - (torch.arange(rows, dtype=torch.float64) + 0.5) * (ymax - ymin) / rows
    gy, gx = torch.meshgrid(ys, xs, indexing="ij")
    return torch.stack([gx.reshape(-1), gy.reshape(-1)], 1).float()


def cell_of(x: float, y: float, cols: int, rows: int) -> tuple[int, int] | None:
    """(row, col) of the cell of the drawn plane holding (x, y), or None outside it."""
    xmin, xmax, ymin, ymax = BOUNDS
    if not (math.isfinite(x) and math.isfinite(y)):
        return None
    col = math.floor((x - xmin) / (xmax - xmin) * cols)
    row = math.floor((ymax - y) / (ymax - ymin) * rows)
    if 0 <= col < cols and 0 <= row < rows:
        return row, col
    return None


def _pairs(t) -> tuple[tuple[float, float], ...]:
    return tuple((float(a), float(b)) for a, b in t.tolist())


def train_history(config: GanConfig, every: int = 50) -> list[dict[str, float]]:
    """A whole run as rows {step, d_loss, g_loss, distance, modes, on_mode, ...}: step 0, then every
    `every` updates and the last one (the CLI's --json)."""
    session = GanSession(config)
    keys = ("step", "d_loss", "g_loss", "distance", "modes", "modes_total", "on_mode", "d_real", "d_fake", "spread")
    rows = [{k: session.measure()[k] for k in keys}]
    while session.step < config.steps and not session.diverged:
        session.train(min(every, config.steps - session.step))
        rows.append({k: session.measure()[k] for k in keys})
    return rows


ARROWS = "→↗↑↖←↙↓↘"  # by angle, counter-clockwise from east in steps of 45°


def arrow_char(dx: float, dy: float, floor: float = 0.0) -> str:
    """The arrow nearest the direction (dx, dy) (y up); '·' when the push is no larger than floor."""
    if not (math.isfinite(dx) and math.isfinite(dy)) or math.hypot(dx, dy) <= floor:
        return "·"
    k = round(math.atan2(dy, dx) / (math.pi / 4)) % 8
    return ARROWS[k]


def frame_summary(frame: GanFrame) -> dict[str, Any]:
    """A frame's numbers, JSON-ready (no maps)."""
    return {"step": frame.step, "d_loss": frame.d_loss, "g_loss": frame.g_loss, "distance": frame.distance,
            "modes": frame.modes, "modes_total": frame.modes_total, "on_mode": frame.on_mode,
            "d_real": frame.d_real, "d_fake": frame.d_fake, "spread": frame.spread, "diverged": frame.diverged,
            "config": config_dict(frame.config)}


def with_changes(config: GanConfig, **changes: Any) -> GanConfig:
    return validate(replace(config, **changes))


def config_dict(config: GanConfig) -> dict[str, Any]:
    return {f.name: getattr(config, f.name) for f in fields(config)}


# What a lesson's gan preset may promise ([target] or a named preset's expect), over a run's history.
EXPECT_KEYS = ("distance_drop", "distance_drop_below", "modes", "modes_below")


def expect_problems(spec: dict[str, Any], history: list[dict[str, Any]]) -> list[str]:
    """What a run (train_history rows) missed of a preset's target / expect; [] when it meets it all.

    distance_drop: first distance / last distance >= the value (distance_drop_below: <); modes: the
    last row covers at least that many modes (modes_below: fewer)."""
    if not history:
        return ["no history"]
    first, last = history[0], history[-1]
    drop = first["distance"] / last["distance"] if last["distance"] > 0 else math.inf
    tests = {"distance_drop": (drop, lambda x, t: x >= t, ">="),
             "distance_drop_below": (drop, lambda x, t: x < t, "<"),
             "modes": (last["modes"], lambda x, t: x >= t, ">="),
             "modes_below": (last["modes"], lambda x, t: x < t, "<")}
    problems = []
    for key, threshold in spec.items():
        if key not in tests:
            problems.append(f"{key}: unknown; allowed: {', '.join(EXPECT_KEYS)}")
            continue
        value, ok, op = tests[key]
        if not (math.isfinite(value) or value == math.inf) or not ok(value, threshold):
            problems.append(f"{key}: is {value:.4g}, expected {op} {threshold:g}")
    return problems


__all__ = [
    "DATASETS", "LOSSES", "OPTIMIZERS", "PRESET_KEYS", "GanConfig", "GanFrame", "GanSession", "GanControl",
    "validate", "config_from_preset", "describe", "describe_networks", "sample_real", "mode_centres", "energy_distance",
    "modes_covered", "build_networks", "d_loss_of", "g_loss_of", "generator_push", "grid_centres", "cell_of",
    "train_history", "arrow_char", "frame_summary", "with_changes", "config_dict", "EXPECT_KEYS", "expect_problems",
]

"""The autoencoder explorer: inputs beside their reconstructions, and the latent space by digit.

Built as `LatentScreen(preset={"run": 3})`, or with a lesson's train preset (model options such as
`latent = 2`): without a run it takes the newest finished autoencoder run, or trains the preset here
(its epochs shown as they end, recorded like any run); `t` trains a fresh one. The numbers come from
`tui_lab.autoencoder` (the run's checkpoint on its validation split); this screen only draws: a page
of validation images over their reconstructions (one shared colour scale, each with its MSE), and
every validation example's code as a pixel coloured by its label, the selected one in white.
"""

from __future__ import annotations

import threading
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Static

from tui_lab.ui.jobs import JobRunner
from tui_lab.ui.widgets.channel_maps import GAP, ChannelMaps
from tui_lab.ui.widgets.footer import Footer
from tui_lab.ui.widgets.heat import Scale
from tui_lab.ui.widgets.latent_scatter import LatentScatter, legend

BIG = 28  # image size (pixels) when the screen is tall enough, else SMALL
SMALL = 14
TALL = 38  # screen lines from which two rows of BIG images fit
NARROW = 110  # screen columns under which the left column is NARROW_LEFT wide (latent.tcss), else WIDE_LEFT
NARROW_LEFT, WIDE_LEFT = 31, 61


class LatentScreen(JobRunner, Screen):
    """A trained autoencoder's reconstructions and latent space."""

    CSS_PATH = "latent.tcss"

    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("right,l", "select(1)", "Next"),
        Binding("left,h", "select(-1)", "Previous", show=False),
        Binding("right_square_bracket", "page(1)", "Page+"),
        Binding("left_square_bracket", "page(-1)", "Page-", show=False),
        Binding("t", "train", "Train new"),
    ]

    def __init__(self, preset: dict[str, Any] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.preset = dict(preset or {})
        self.run_id: int | None = None
        self.model: Any = None
        self.config: Any = None
        self.space: Any = None
        self.recon: Any = None
        self.selected = int(self.preset.get("sample", 0) or 0)
        self.start = 0  # the page shown starts here (aligned to the page size when loaded)
        self.error = ""
        self._cancel = threading.Event()

    def compose(self) -> ComposeResult:
        with Vertical(id="lt-root"):
            yield Static("loading…", id="lt-title")
            with Horizontal(id="lt-main"):
                with Vertical(id="lt-left"):
                    yield ChannelMaps(id="lt-inputs")
                    yield ChannelMaps(id="lt-outputs")
                with Vertical(id="lt-right"):
                    yield LatentScatter(id="lt-scatter")
                    yield Static("", id="lt-legend")
            yield Static("", id="lt-status")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#lt-inputs").border_title = "inputs"
        self.query_one("#lt-outputs").border_title = "reconstructions"
        self.query_one("#lt-scatter").border_title = "latent space"
        self._load(self.preset.get("run"))

    def on_unmount(self) -> None:
        self._cancel.set()  # a training started here stops within one step

    def on_resize(self) -> None:
        self.set_class(self.size.width < NARROW, "-narrow")
        self.set_class(self.size.height >= TALL, "-tall")
        if self.space is not None:
            self._page()

    # ------------------------------------------------------------------ jobs

    def _load(self, run: Any, train: bool = False) -> None:
        from tui_lab import autoencoder as ae

        settings = {k: v for k, v in self.preset.items() if k not in ("run", "sample")}
        cancel = self._cancel

        def job():
            from tui_lab.runs import RunStore
            from tui_lab.training import EpochEnd

            store = RunStore()
            run_id = run
            if run_id is None and not train:
                run_id = ae.newest_run(store)
            if run_id is None:
                config = ae.preset_config(settings)
                yield ("status", f"training an autoencoder on {config.dataset} "
                                 f"({config.epochs} epochs, a few seconds)…")
                for event in ae.train_autoencoder(settings, store, cancel):
                    if isinstance(event, EpochEnd):
                        yield ("status", f"training: epoch {event.epoch}/{config.epochs}, "
                                         f"validation MSE {event.val_loss:.4f}…")
                    elif isinstance(event, ae.Trained):
                        run_id = event.run_id
            model, config = ae.load_autoencoder(int(run_id), store)
            yield ("space", int(run_id), model, config, ae.latent_space(model, config, int(run_id)))

        self.run_job("latent", job)

    def _page(self) -> None:
        """Reconstruct the page of validation examples that fits, around the selected one."""
        from tui_lab import autoencoder as ae

        n = len(self.space.points)
        per = self.per_page
        self.selected = max(0, min(n - 1, self.selected))
        if not self.start <= self.selected < self.start + per:
            self.start = self.selected - self.selected % per
        self.start = max(0, min(self.start, n - per))
        indices = list(range(self.start, min(n, self.start + per)))
        model, config = self.model, self.config
        self.run_job("page", lambda: ("page", ae.reconstructions(model, config, indices)))

    def job_event(self, job: str, event: Any) -> None:
        if event[0] == "status":
            self.query_one("#lt-title", Static).update(event[1])
            return
        if event[0] == "space":
            _, self.run_id, self.model, self.config, self.space = event
            self.error = ""
            self._page()
            return
        self.recon = event[1]
        self.refresh_view()

    def job_failed(self, job: str, message: str) -> None:
        self.last_job_error = self.error = message
        self.query_one("#lt-title", Static).update(Text(f"error: {message}", style="bold"))

    # ------------------------------------------------------------------ drawing

    @property
    def image_size(self) -> int:
        return BIG if self.size.height >= TALL else SMALL

    @property
    def per_page(self) -> int:
        """How many images fit side by side in the left column."""
        # from the screen's width, not the column's (which lags a class change by one layout pass)
        width = (NARROW_LEFT if self.size.width < NARROW else WIDE_LEFT) - 2  # the column's border
        return max(1, (width + GAP) // (self.image_size + GAP))

    def _architecture(self) -> str:
        import torch

        widths = [m.out_features for m in self.model.modules() if isinstance(m, torch.nn.Linear)]
        first = self.model.encoder[1].in_features if len(self.model.encoder) > 1 else "?"
        return "→".join(str(w) for w in [first, *widths])

    def refresh_view(self) -> None:
        from tui_lab import autoencoder as ae

        space, recon = self.space, self.recon
        if space is None or recon is None:
            return
        title = Text.assemble(("latent", "bold"), f" · run {self.run_id} · autoencoder {self._architecture()} · ",
                              ("validation MSE ", "dim"), (f"{space.val_loss:.4f}", "bold"))
        self.query_one("#lt-title", Static).update(title)
        size = self.image_size
        inputs = ae.thumbnail(recon.inputs, size)[:, 0].tolist()
        outputs = ae.thumbnail(recon.outputs, size)[:, 0].tolist()
        flat = [v for img in inputs for row in img for v in row]
        scale = Scale(min(flat), max(flat), False)  # the inputs' range: a reconstruction beyond it saturates
        k = self.selected - self.start
        cursor = (k, -1, -1)  # the label mark only (no pixel is at row -1)
        names = space.classes or tuple(str(c) for c in range(10))
        self.query_one("#lt-inputs", ChannelMaps).show(
            inputs, cursor, [f"{i}:{names[lab]}" for i, lab in zip(recon.indices, recon.labels)], scale)
        self.query_one("#lt-outputs", ChannelMaps).show(
            outputs, cursor, [f"{e:.3f}" for e in recon.errors], scale)
        self.query_one("#lt-scatter", LatentScatter).show(space.points, self.selected)
        scatter = self.query_one("#lt-scatter", LatentScatter)
        scatter.border_title = f"latent space: {space.describe()}"
        key = legend(names[:max(p.label for p in space.points) + 1])
        key.append("  ■", style="bold #ffffff")
        key.append(f"sample {self.selected}")
        self.query_one("#lt-legend", Static).update(key)
        self._status()

    def _status(self) -> None:
        space, recon = self.space, self.recon
        point = space.points[self.selected]
        k = self.selected - self.start
        names = space.classes or tuple(str(c) for c in range(10))
        axes = "code" if space.projection != "pca" else "PCA"
        text = Text.assemble((f"sample {self.selected}", "bold"), f" · label {names[point.label]} · ",
                             f"{axes} ({point.x:.2f}, {point.y:.2f}) · its reconstruction's MSE {recon.errors[k]:.4f}")
        self.query_one("#lt-status", Static).update(text)

    # ------------------------------------------------------------------ actions

    def action_back(self) -> None:
        go_back = getattr(self.app, "go_back", None)
        if go_back is not None:
            go_back()
        elif len(self.app.screen_stack) > 1:
            self.app.pop_screen()

    def action_select(self, delta: int) -> None:
        if self.space is None or self.recon is None:
            return
        self.selected = max(0, min(len(self.space.points) - 1, self.selected + delta))
        if self.start <= self.selected < self.start + len(self.recon.indices):
            self.refresh_view()
        else:
            self._page()

    def action_page(self, delta: int) -> None:
        if self.space is None:
            return
        per = self.per_page
        self.selected = max(0, min(len(self.space.points) - 1, self.start + delta * per))
        self.start = 0  # the page shown starts here (aligned to the page size when loaded)
        self._page()

    def action_train(self) -> None:
        if self.job_running("latent"):
            self.notify("already loading or training", timeout=3)
            return
        self._load(None, train=True)

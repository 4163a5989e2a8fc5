"""The feature-map explorer: a trained run's every layer for one sample, down to the softmax.

Built as `FeaturesScreen(preset={"run": 3, "sample": 0})`; without a run it takes the newest
finished run with a checkpoint and conv layers from the history, or trains LeNet on the digits in
seconds (recorded like any run). The numbers come from `tui_lab.features` (a forward pass with
hooks); this screen only draws: the sample, the layer list, the chosen layer's channels as small
multiples with a cursor, and the class probabilities as bars. On a conv layer, Enter opens the
convolution stepper on the real input window and kernel of the cursor's output cell.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Static

from tui_lab.errors import DllabError
from tui_lab.ui.jobs import JobRunner
from tui_lab.ui.widgets.channel_maps import ChannelMaps
from tui_lab.ui.widgets.footer import Footer

BAR = 20


class FeaturesScreen(JobRunner, Screen):
    """Every layer's activations for one sample of a trained run."""

    CSS_PATH = "features.tcss"

    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("down,j", "layer(1)", "Layer"),
        Binding("up,k", "layer(-1)", "Layer up", show=False),
        Binding("right_square_bracket", "sample(1)", "Sample+"),
        Binding("left_square_bracket", "sample(-1)", "Sample-", show=False),
        Binding("c", "channel(1)", "Channel"),
        Binding("C", "channel(-1)", "Channel back", show=False),
        Binding("right,l", "move(0, 1)", "Cursor", show=False),
        Binding("left,h", "move(0, -1)", "Cursor", show=False),
        Binding("J", "move(1, 0)", "Cursor down", show=False),
        Binding("K", "move(-1, 0)", "Cursor up", show=False),
        Binding("enter", "open_conv", "Open stepper"),
        Binding("t", "train", "Train LeNet", show=False),
    ]

    def __init__(self, preset: dict[str, Any] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.preset = dict(preset or {})
        self.run_id: int | None = None
        self.sample = int(self.preset.get("sample", 0) or 0)
        self.maps = None
        self.model = None
        self.layer_index = 0
        self.cursor: tuple[int, int, int] = (0, 0, 0)
        self.error = ""

    def compose(self) -> ComposeResult:
        with Vertical(id="fm-root"):
            yield Static("loading…", id="fm-title")
            with Horizontal(id="fm-main"):
                with Vertical(id="fm-left"):
                    yield ChannelMaps(id="fm-input")
                    yield Static("", id="fm-layers")
                with VerticalScroll(id="fm-maps-box", can_focus=False):
                    yield ChannelMaps(id="fm-maps")
                yield Static("", id="fm-probs")
            yield Static("", id="fm-status")
        yield Footer()

    def on_mount(self) -> None:
        self._load(self.preset.get("run"))

    def on_resize(self) -> None:
        self.set_class(self.size.width < 110, "-narrow")
        if self.maps is not None:
            self._draw_probs()

    # ------------------------------------------------------------------ jobs

    def _load(self, run: Any, train: bool = False) -> None:
        from tui_lab import features as fm

        sample = self.sample

        def job():
            from tui_lab.runs import RunStore

            store = RunStore()
            run_id = run
            if train:
                yield ("status", "training LeNet on the digits (a few seconds)…")
                run_id = fm.train_quick_lenet(store)
            elif run_id is None:
                run_id = _newest_conv_run(store)
                if run_id is None:
                    yield ("status", "no trained conv run in the history: training LeNet on the digits…")
                    run_id = fm.train_quick_lenet(store)
            model, _ = fm.load_run(int(run_id), store)
            yield ("maps", int(run_id), model, fm.run_features(int(run_id), sample, store))

        self.run_job("features", job)

    def job_event(self, job: str, event: Any) -> None:
        if event[0] == "status":
            self.query_one("#fm-title", Static).update(event[1])
            return
        _, self.run_id, self.model, self.maps = event
        self.error = ""
        self.layer_index = min(self.layer_index, len(self.maps.layers) - 1)
        self._place_cursor()
        self.refresh_view()

    def job_failed(self, job: str, message: str) -> None:
        self.last_job_error = self.error = message
        self.query_one("#fm-title", Static).update(Text(f"error: {message}", style="bold"))

    # ------------------------------------------------------------------ drawing

    @property
    def layer(self):
        return self.maps.layers[self.layer_index] if self.maps is not None else None

    def _place_cursor(self) -> None:
        """On a map layer: the most active cell of the cursor's channel (kept when it still fits)."""
        layer = self.layer
        if layer is None or not layer.is_map:
            return
        c, h, w = layer.shape
        ch = min(self.cursor[0], c - 1)
        plane = layer.values[ch]
        flat = int(plane.argmax())
        self.cursor = (ch, flat // w, flat % w)

    def refresh_view(self) -> None:
        maps, layer = self.maps, self.layer
        if maps is None or layer is None:
            return
        label = "" if maps.label is None else f" · label {maps.label}"
        title = Text.assemble(("features", "bold"), f" · run {self.run_id} · sample {maps.sample}{label} · ",
                              ("prediction ", "dim"), (str(maps.prediction), "bold"),
                              f" ({100 * maps.probabilities[maps.prediction]:.1f}%)")
        self.query_one("#fm-title", Static).update(title)
        x = maps.input
        planes = x.tolist() if x.dim() == 3 else [[x.tolist()]]
        self.query_one("#fm-input", ChannelMaps).show(planes)
        self._draw_layers()
        self._draw_maps()
        self._draw_probs()

    def _draw_layers(self) -> None:
        text = Text(no_wrap=True, overflow="ellipsis")
        for k, layer in enumerate(self.maps.layers):
            if k:
                text.append("\n")
            shape = "x".join(map(str, layer.shape))
            line = f"{'▸' if k == self.layer_index else ' '}{layer.name:>3} {layer.kind:<9} {shape}"
            text.append(line, style="bold reverse" if k == self.layer_index else "")
        self.query_one("#fm-layers", Static).update(text)

    def _draw_maps(self) -> None:
        layer = self.layer
        grid = self.query_one("#fm-maps", ChannelMaps)
        values = layer.values
        if layer.is_map:
            grid.show(values.tolist(), self.cursor)
            c, r, q = self.cursor
            v = float(values[c, r, q])
            where = f"channel {c} at ({r}, {q}) = {v:.4g}"
            hint = " · Enter: the stepper on this cell" if layer.kind == "Conv2d" else ""
        else:
            flat = values.reshape(-1)
            grid.show([[flat.tolist()]])
            where, hint = f"{flat.numel()} values, {float(flat.min()):.3g} … {float(flat.max()):.3g}", ""
        scale = grid.scale
        status = Text.assemble((f"{layer.name} {layer.kind} ", "bold"), where, (hint, "dim"), "  ")
        status.append_text(scale.legend("", lambda v: f"{v:.3g}"))
        self.query_one("#fm-status", Static).update(status)

    def _draw_probs(self) -> None:
        maps = self.maps
        text = Text(no_wrap=True)
        names = maps.classes or tuple(str(k) for k in range(len(maps.probabilities)))
        bar = 6 if self.has_class("-narrow") else BAR
        for k, p in enumerate(maps.probabilities):
            if k:
                text.append("\n")
            filled = round(p * bar)
            style = "bold" if k == maps.prediction else ""
            text.append(f"{names[k][:6]:>6} ", style=style)
            text.append("█" * filled, style="bold #f28e2b" if k == maps.prediction else "#4e8cdc")
            text.append("·" * (bar - filled), style="dim")
            text.append(f" {100 * p:5.1f}%", style=style)
        self.query_one("#fm-probs", Static).update(text)

    # ------------------------------------------------------------------ actions

    def action_back(self) -> None:
        go_back = getattr(self.app, "go_back", None)
        if go_back is not None:
            go_back()
        elif len(self.app.screen_stack) > 1:
            self.app.pop_screen()

    def action_layer(self, delta: int) -> None:
        if self.maps is None:
            return
        self.layer_index = (self.layer_index + delta) % len(self.maps.layers)
        self._place_cursor()
        self.refresh_view()

    def action_sample(self, delta: int) -> None:
        if self.run_id is None:
            return
        self.sample = max(0, self.sample + delta)
        self._load(self.run_id)

    def action_channel(self, delta: int) -> None:
        layer = self.layer
        if layer is None or not layer.is_map:
            return
        self.cursor = ((self.cursor[0] + delta) % layer.shape[0], 0, 0)
        self._place_cursor()
        self._draw_maps()

    def action_move(self, dr: int, dc: int) -> None:
        layer = self.layer
        if layer is None or not layer.is_map:
            return
        c, r, q = self.cursor
        self.cursor = (c, max(0, min(layer.shape[1] - 1, r + dr)), max(0, min(layer.shape[2] - 1, q + dc)))
        self._draw_maps()

    def action_train(self) -> None:
        self._load(None, train=True)

    def action_open_conv(self) -> None:
        from tui_lab import features as fm
        from tui_lab.ui.screens.conv import ConvScreen

        layer = self.layer
        if layer is None or layer.kind != "Conv2d":
            self.notify("pick a Conv2d layer (↑/↓) to open the stepper on it", timeout=3)
            return
        try:
            preset = fm.conv_preset(self.maps, self.model, layer.name, *self.cursor)
        except DllabError as exc:
            self.notify(str(exc), severity="warning", timeout=3)
            return
        self.app.push_screen(ConvScreen(preset=preset))


def _newest_conv_run(store) -> int | None:
    """The newest finished run with a checkpoint whose model has conv layers."""
    from pathlib import Path

    for run in store.list_runs(limit=200):
        if run.status == "finished" and run.checkpoint and Path(run.checkpoint).exists() and \
                run.model in ("lenet", "lenet-relu", "alexnet", "vgg", "nin"):
            return run.id
    return None

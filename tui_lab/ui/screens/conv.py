"""The convolution screen: a kernel sliding over a padded input, one output cell per step.

Built as `ConvScreen(preset={"preset": "corr2d"})` or `{"mode": "pool"|"max"|"avg"|"transposed"|
"conv", "input": ..., "kernel": ..., "padding": ..., ...}` (the keys of `conv_steps.build_config`,
plus `step` to open at a frame). All arithmetic comes from `tui_lab.conv_steps`; this only draws.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, ScrollableContainer, Vertical
from textual.geometry import Region
from textual.screen import Screen
from textual.widgets import Static

from tui_lab import conv_steps as cs
from tui_lab.errors import DllabError
from tui_lab.ui.widgets.footer import Footer
from tui_lab.ui.jobs import JobRunner
from tui_lab.ui.widgets.matrix_grid import MatrixGrid

SPEEDS = (1, 2, 4, 8, 16, 32)  # steps per second
MODE_CYCLE = ("conv", "max", "avg", "transposed")
PENDING = "·"
KEYS_HELP = "←→ step ␣ play +- speed m mode n preset p/P pad s/S stride d/D dil k/K c/o"


class ConvScreen(JobRunner, Screen):
    """Step through a convolution, pooling or transposed convolution frame by frame."""

    CSS_PATH = "conv.tcss"

    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("right,l", "step(1)", "Step"),
        Binding("left,h", "step(-1)", "Step back"),
        Binding("space", "toggle_play", "Play/pause"),
        Binding("home,g", "jump(0)", "Start", show=False),
        Binding("end,G", "jump(-1)", "End", show=False),
        Binding("plus,equals_sign", "speed(1)", "Faster"),
        Binding("minus", "speed(-1)", "Slower", show=False),
        Binding("m", "cycle_mode", "Mode"),
        Binding("p", "change('padding', 1)", "Pad+"),
        Binding("P", "change('padding', -1)", "Pad-", show=False),
        Binding("s", "change('stride', 1)", "Stride+"),
        Binding("S", "change('stride', -1)", "Stride-", show=False),
        Binding("d", "change('dilation', 1)", "Dilation+"),
        Binding("D", "change('dilation', -1)", "Dilation-", show=False),
        Binding("k", "change('kernel', 1)", "Kernel+"),
        Binding("K", "change('kernel', -1)", "Kernel-", show=False),
        Binding("c", "channel(1)", "In channel"),
        Binding("o", "out_channel(1)", "Out channel"),
        Binding("n", "preset(1)", "Next preset"),
        Binding("N", "preset(-1)", "Previous preset", show=False),
    ]

    def __init__(self, preset: dict[str, Any] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.preset = dict(preset or {})
        self.config: cs.Config | None = None
        self.result: cs.Result | None = None
        self.index = 0
        self.channel = 0  # input channel shown (conv)
        self.playing = False
        self.speed_i = 2
        self._timer = None
        self._loaded: cs.Config | None = None
        self._texts: dict[str, Any] = {}
        self._cells_key: tuple[int, int] | None = None
        self._out_key: tuple[int, int] | None = None
        self._out: tuple[list[list[str]], int] = ([], 1)
        self._cells: tuple[list[list[str]], dict] = ([], {})

    # ------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        with Vertical(id="conv-root"):
            yield Static("loading…", id="conv-title")
            yield Static("", id="conv-subtitle")
            yield Static("", id="conv-formula")
            with Horizontal(id="conv-grids"):
                with ScrollableContainer(id="conv-input-box", classes="conv-box", can_focus=False):
                    yield MatrixGrid(id="conv-input")
                with ScrollableContainer(id="conv-kernel-box", classes="conv-box", can_focus=False):
                    yield MatrixGrid(id="conv-kernel")
                with ScrollableContainer(id="conv-output-box", classes="conv-box", can_focus=False):
                    yield MatrixGrid(id="conv-output")
            yield Static("", id="conv-products")
            yield Static("", id="conv-status")
            yield Static(KEYS_HELP, id="conv-keys")
        yield Footer()

    def on_mount(self) -> None:
        self._timer = self.set_interval(1 / SPEEDS[self.speed_i], self._tick, pause=True)
        self._load(dict(self.preset))

    def _load(self, preset: dict[str, Any]) -> None:
        # A digit input loads scikit-learn the first time: keep that off the UI thread.
        step = preset.pop("step", 0)

        def job() -> tuple[cs.Config, cs.Result, int]:
            config = cs.build_config(preset)
            return config, cs.compute(config), step

        self.run_job("frames", job)

    def job_event(self, job: str, event: Any) -> None:
        config, result, step = event
        self._loaded = config
        self._apply(config, result, step)

    def job_failed(self, job: str, message: str) -> None:
        self.last_job_error = message
        self._set_text("#conv-title", Text(f"error: {message}", style="bold"))

    def _apply(self, config: cs.Config, result: cs.Result, step: int = 0) -> None:
        self.config, self.result = config, result
        n = len(result.frames)
        self.index = max(0, min(step if step >= 0 else n + step, n - 1))
        self.channel = min(self.channel, config.input_shape[0] - 1)
        self.refresh_view()

    # ------------------------------------------------------------------ drawing

    @property
    def frame(self) -> cs.Frame | None:
        return self.result.frames[self.index] if self.result and self.result.frames else None

    def refresh_view(self) -> None:
        """Redraw every part for the current frame."""
        result, frame = self.result, self.frame
        if result is None or frame is None:
            return
        cfg = result.config
        self._draw_title(cfg, result)
        self._set_text("#conv-formula", 
            "\n".join(f"out {f.axis[0].upper()}: {f.text}" for f in result.formulas))
        if cfg.mode == "transposed":
            self._draw_transposed(result, frame)
        else:
            self._draw_sliding(result, frame)
        self._draw_products(result, frame)
        self._draw_status(result, frame)

    def _draw_title(self, cfg: cs.Config, result: cs.Result) -> None:
        shape = "x".join(map(str, result.kernel_shape[-2:]))
        parts = [f"[b]{cfg.mode}[/b]"] + ([f"preset {cfg.name}{'' if cfg is self._loaded else '*'}"] if cfg.name else []) + [f"kernel {shape}", f"pad {cfg.padding[0]},{cfg.padding[1]}",
                 f"stride {cfg.stride[0]},{cfg.stride[1]}"]
        if cfg.mode == "conv" or cfg.dilation != (1, 1):
            parts.append(f"dil {cfg.dilation[0]},{cfg.dilation[1]}")
        title = cfg.title if cfg is self._loaded else ""  # a preset's title until it is edited
        self._set_text("#conv-title", " · ".join(parts))
        general = f"output size = {result.formulas[0].general}"
        self._set_text("#conv-subtitle", Text(title or general))

    def _draw_sliding(self, result: cs.Result, frame: cs.Frame) -> None:
        cfg = result.config
        o = frame.out_index[0]
        ch = self.channel if cfg.mode == "conv" else o
        plane = result.padded[ch]
        cells, base_marks = self._input_cells(result, ch)
        marks = dict(base_marks)
        for cell in frame.window:
            marks[cell] = marks.get(cell, ()) + ("window",)
        grid = self.query_one("#conv-input", MatrixGrid)
        grid.show(cells, marks)
        chan = f" ch {ch}" if cfg.input_shape[0] > 1 else ""
        label = "input+pad" if any(cfg.padding) else "input"
        self._set_title("#conv-input-box", f"{label}{chan} {len(plane)}x{len(plane[0])}")
        self._scroll_cells_into_view(grid, "#conv-input-box", frame.window)

        kh, kw = cfg.kernel_size
        kgrid = self.query_one("#conv-kernel", MatrixGrid)
        if cfg.mode == "conv":
            kgrid.show([[cs.fmt(v) for v in row] for row in cfg.kernel[o][ch]])
            kchan = f" {o},{ch}" if cfg.kernel_shape[0] * cfg.kernel_shape[1] > 1 else ""
            self._set_title("#conv-kernel-box", f"kernel{kchan}")
        else:
            kgrid.show([[cfg.mode] * kw for _ in range(kh)], {(a, b): ("window",) for a in range(kh) for b in range(kw)})
            self._set_title("#conv-kernel-box", f"{cfg.mode} {kh}x{kw}")

        out_plane = result.output[o]
        oh, ow = len(out_plane), len(out_plane[0])
        done = self.index - o * oh * ow  # cells of this channel written so far, minus one
        formatted, width = self._output_cells(result, o)
        ocells, omarks = [], {}
        for i, row in enumerate(formatted):
            cut = max(0, min(ow, done - i * ow + 1))
            ocells.append(row[:cut] + [PENDING] * (ow - cut))
            for j in range(cut, ow):
                omarks[(i, j)] = ("pending",)
        omarks[frame.out_index[1:]] = ("focus",)
        ogrid = self.query_one("#conv-output", MatrixGrid)
        ogrid.show(ocells, omarks, width)
        ochan = f" ch {o}" if len(result.output) > 1 else ""
        self._set_title("#conv-output-box", f"output{ochan} {oh}x{ow}")
        self._scroll_cells_into_view(ogrid, "#conv-output-box", [frame.out_index[1:]])

    def _input_cells(self, result: cs.Result, ch: int) -> tuple[list[list[str]], dict]:
        """Formatted padded-input cells and padding marks, cached per result and channel."""
        key = (id(result), ch)
        if self._cells_key != key:
            plane = result.padded[ch]
            cells = [[PENDING if v is None else cs.fmt(v) for v in row] for row in plane]
            pads = {(r, c): ("pad",) for r in range(len(plane)) for c in range(len(plane[0]))
                    if result.is_padding(r, c)}
            self._cells_key, self._cells = key, (cells, pads)
        return self._cells

    def _output_cells(self, result: cs.Result, o: int) -> tuple[list[list[str]], int]:
        """Formatted output cells and their common width, cached per result and channel."""
        key = (id(result), o)
        if self._out_key != key:
            cells = [[cs.fmt(v) for v in row] for row in result.output[o]]
            self._out_key = key
            self._out = (cells, max(len(c) for row in cells for c in row))
        return self._out

    def _draw_transposed(self, result: cs.Result, frame: cs.Frame) -> None:
        cfg = result.config
        c, i0, j0 = frame.in_index
        o = frame.out_index[0]
        x = cfg.input[c]
        grid = self.query_one("#conv-input", MatrixGrid)
        order = (o * cfg.input_shape[0] + c) * len(x) * len(x[0])
        marks = {}
        for i in range(len(x)):
            for j in range(len(x[0])):
                if (i, j) == (i0, j0):
                    marks[(i, j)] = ("window",)
                elif order + i * len(x[0]) + j > self.index:
                    marks[(i, j)] = ("pending",)
        grid.show([[cs.fmt(v) for v in row] for row in x], marks)
        chan = f" ch {c}" if cfg.input_shape[0] > 1 else ""
        self._set_title("#conv-input-box", f"input{chan} {len(x)}x{len(x[0])}")
        self._scroll_cells_into_view(grid, "#conv-input-box", [(i0, j0)])

        kernel = cfg.kernel[c][o]
        self.query_one("#conv-kernel", MatrixGrid).show([[cs.fmt(v) for v in row] for row in kernel])
        kchan = f" {c},{o}" if cfg.kernel_shape[0] * cfg.kernel_shape[1] > 1 else ""
        self._set_title("#conv-kernel-box", f"kernel{kchan}")

        # The uncropped output as it stands after this step; cropped border styled like padding.
        plane = result.full[o]
        canvas, touched = cs.canvas_after(result, self.index)
        window = set(frame.window)
        cells, omarks = [], {}
        for r, row in enumerate(canvas):
            cells.append([cs.fmt(v) for v in row])
            for col in range(len(row)):
                names = (("pad",) if result.is_padding(r, col) else ()) + (
                    ("scatter",) if (r, col) in window else () if (r, col) in touched else ("pending",))
                if names:
                    omarks[(r, col)] = names
        width = max(len(cs.fmt(v)) for row in plane for v in row)
        ogrid = self.query_one("#conv-output", MatrixGrid)
        ogrid.show(cells, omarks, width)
        oh, ow = result.output_shape[1:]
        crop = f" → {oh}x{ow}" if any(cfg.padding) else ""
        self._set_title("#conv-output-box", f"output {len(plane)}x{len(plane[0])}{crop}")
        self._scroll_cells_into_view(ogrid, "#conv-output-box", frame.window)

    def _set_text(self, selector: str, value: Any) -> None:
        """Update a Static only when its content changes: a step then repaints just what moved."""
        if self._texts.get(selector) != value:
            self._texts[selector] = value
            self.query_one(selector, Static).update(value)

    def _set_title(self, selector: str, title: str) -> None:
        if self._texts.get(selector) != title:
            self._texts[selector] = title
            self.query_one(selector).border_title = title

    def _scroll_cells_into_view(self, grid: MatrixGrid, box_id: str, cells: Any) -> None:
        cells = list(cells)
        if not cells:
            return
        rows = [r for r, _ in cells]
        cols = [c for _, c in cells]
        x0, y0, w = grid.cell_region(min(rows), min(cols))
        x1, _, _ = grid.cell_region(max(rows), max(cols))
        region = Region(x0, y0, x1 + w - x0, max(rows) - y0 + 1)
        self.query_one(box_id).scroll_to_region(region, animate=False, immediate=True)

    def _draw_products(self, result: cs.Result, frame: cs.Frame) -> None:
        cfg = result.config
        o, i, j = frame.out_index
        if cfg.mode == "transposed":
            c, a, b = frame.in_index
            lines = [f"in[{a},{b}] = {cs.fmt(frame.value)} scatters to out rows "
                     f"{a * cfg.stride[0] - cfg.padding[0]}.., cols {b * cfg.stride[1] - cfg.padding[1]}..:",
                     cs.products_text(frame)]
        elif cfg.mode == "conv" and cfg.input_shape[0] > 1:
            per = [sum(x * w for (x, w), ch in zip(frame.terms, frame.channels) if ch == k)
                   for k in range(cfg.input_shape[0])]
            bias = f" + {cs.fmt(frame.bias)}" if frame.bias else ""
            lines = [f"ch {self.channel}: {cs.products_text(frame, self.channel)}",
                     f"out[{o},{i},{j}] = " + " + ".join(cs.fmt(v) for v in per) + f"{bias} = {cs.fmt(frame.value)}"]
        else:
            lines = [f"out[{i},{j}] = {cs.products_text(frame)}"]
        self._set_text("#conv-products", Text("\n".join(lines)))

    def _draw_status(self, result: cs.Result, frame: cs.Frame) -> None:
        state = "▶ playing" if self.playing else "⏸ paused"
        parts = [f"step {self.index + 1}/{len(result.frames)}", state, f"{SPEEDS[self.speed_i]}/s"]
        if result.config.mode == "conv" and result.config.input_shape[0] > 1:
            parts.append(f"in ch {self.channel + 1}/{result.config.input_shape[0]} (c)")
        if len(result.output) > 1:
            per = len(result.frames) // len(result.output)
            parts.append(f"out ch {self.index // per + 1}/{len(result.output)} (o)")
        parts.append(f"out {'x'.join(map(str, result.output_shape))}")
        self._set_text("#conv-status", " · ".join(parts))

    # ------------------------------------------------------------------ actions

    def action_back(self) -> None:
        go_back = getattr(self.app, "go_back", None)  # dllab's App knows its modes; a bare App pops
        if go_back is not None:
            go_back()
        elif len(self.app.screen_stack) > 1:
            self.app.pop_screen()

    def action_step(self, delta: int) -> None:
        if self.result is None or not self.result.frames:
            return
        self.index = max(0, min(self.index + delta, len(self.result.frames) - 1))
        self.refresh_view()

    def action_jump(self, where: int) -> None:
        if self.result is None:
            return
        self.index = 0 if where == 0 else len(self.result.frames) - 1
        self.refresh_view()

    def action_toggle_play(self) -> None:
        if self.result is None:
            return
        if not self.playing and self.index >= len(self.result.frames) - 1:
            self.index = 0  # replay from the start
        self.playing = not self.playing
        if self.playing:
            self._timer.resume()
        else:
            self._timer.pause()
        self.refresh_view()

    def _tick(self) -> None:
        if self.result is None or self.index >= len(self.result.frames) - 1:
            self.playing = False
            self._timer.pause()
        else:
            self.index += 1
        self.refresh_view()

    def action_speed(self, delta: int) -> None:
        self.speed_i = max(0, min(self.speed_i + delta, len(SPEEDS) - 1))
        self._timer.stop()
        self._timer = self.set_interval(1 / SPEEDS[self.speed_i], self._tick, pause=not self.playing)
        self.refresh_view()

    def action_channel(self, delta: int) -> None:
        if self.config is None:
            return
        self.channel = (self.channel + delta) % self.config.input_shape[0]
        self.refresh_view()

    def action_out_channel(self, delta: int) -> None:
        """Jump to the first frame of the next output channel (pooling: the next channel)."""
        if self.result is None:
            return
        channels = len(self.result.output)
        per = len(self.result.frames) // channels
        current = self.index // per
        self.index = ((current + delta) % channels) * per
        self.refresh_view()

    def action_preset(self, delta: int) -> None:
        """Open the next (or previous) named example; the lessons refer to them by name."""
        names = list(cs.PRESETS)
        current = self.config.name if self.config is not None and self.config.name in names else None
        index = names.index(current) + delta if current else (0 if delta > 0 else -1)
        self.playing = False
        self._timer.pause()
        self._load({"preset": names[index % len(names)]})

    def action_cycle_mode(self) -> None:
        if self.config is None:
            return
        mode = MODE_CYCLE[(MODE_CYCLE.index(self.config.mode) + 1) % len(MODE_CYCLE)]
        self._try(lambda cfg: cs.switch_mode(cfg, mode))

    def action_change(self, what: str, delta: int) -> None:
        if self.config is None:
            return

        def bump(pair: tuple[int, int]) -> tuple[int, int]:
            return pair[0] + delta, pair[1] + delta

        def edit(cfg: cs.Config) -> cs.Config:
            if what == "kernel":
                kh, kw = cfg.kernel_size
                return cs.resize_kernel(cfg, kh + delta, kw + delta)
            if what == "dilation" and cfg.mode == "avg":
                raise cs.ConfigError("dilation", "average pooling has no dilation (torch's avg_pool2d)")
            pair = bump(getattr(cfg, what))
            low = 0 if what == "padding" else 1
            if min(pair) < low:
                raise cs.ConfigError(what, f"must be >= {low}")
            return replace(cfg, **{what: pair})

        self._try(edit)

    def _try(self, edit) -> None:
        """Apply a live edit; a configuration torch would refuse is reported and not applied."""
        try:
            config = edit(self.config)
            cs.validate(config)
            result = cs.compute(config)
        except DllabError as exc:
            self.notify(str(exc), severity="warning", timeout=3)
            return
        self._apply(config, result, min(self.index, len(result.frames) - 1))

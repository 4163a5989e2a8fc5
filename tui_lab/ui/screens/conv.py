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
from textual.containers import Horizontal, HorizontalScroll, ScrollableContainer, Vertical
from textual.geometry import Region
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Static

from tui_lab import conv_steps as cs
from tui_lab.errors import DllabError
from tui_lab.ui.widgets.footer import Footer
from tui_lab.ui.jobs import JobRunner
from tui_lab.ui.widgets.heat import Scale
from tui_lab.ui.widgets.matrix_grid import PAD_FILL, MatrixGrid

SPEEDS = (1, 2, 4, 8, 16, 32)  # steps per second
MODE_CYCLE = ("conv", "max", "avg", "transposed")
PENDING = "·"
KEYS_HELP = "←→ step ␣ play +- speed m mode n preset p/P pad s/S stride d/D dil k/K c/o"


class ChannelGroup(Horizontal):
    """One input channel (padded, as a heatmap) beside the kernel slice that multiplies it; the
    kernel box's subtitle is that channel's sum of products (CNN Explainer's view)."""

    def __init__(self, channel: int) -> None:
        suffix = "" if channel == 0 else f"-{channel}"
        super().__init__(classes="conv-chan", id=f"conv-chan{suffix}")
        self.channel = channel
        self.input_box = ScrollableContainer(classes="conv-box conv-input-box", id=f"conv-input-box{suffix}",
                                             can_focus=False)
        self.kernel_box = ScrollableContainer(classes="conv-box conv-kernel-box", id=f"conv-kernel-box{suffix}",
                                              can_focus=False)
        self.input = MatrixGrid(id=f"conv-input{suffix}")
        self.kernel = MatrixGrid(id=f"conv-kernel{suffix}")

    def compose(self) -> ComposeResult:
        with self.input_box:
            yield self.input
        with self.kernel_box:
            yield self.kernel


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
        self._cached: dict[Any, Any] = {}

    # ------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        with Vertical(id="conv-root"):
            yield Static("loading…", id="conv-title")
            yield Static("", id="conv-subtitle")
            yield Static("", id="conv-formula")
            with Horizontal(id="conv-grids"):
                with HorizontalScroll(id="conv-channels", can_focus=False):
                    yield ChannelGroup(0)
                with ScrollableContainer(id="conv-output-box", classes="conv-box", can_focus=False):
                    yield MatrixGrid(id="conv-output")
            yield Static("", id="conv-products")
            yield Static("", id="conv-legend")
            yield Static("", id="conv-status")
            yield Static(KEYS_HELP, id="conv-keys")
        yield Footer()

    def on_mount(self) -> None:
        self._timer = self.set_interval(1 / SPEEDS[self.speed_i], self._tick, pause=True)
        self._load(dict(self.preset))

    def on_resize(self) -> None:
        if self.result is not None:
            self.refresh_view()

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
        zoom = self._zoom(result)
        if cfg.mode == "transposed":
            self._draw_transposed(result, frame, zoom)
        else:
            self._draw_sliding(result, frame, zoom)
        self._draw_products(result, frame)
        self._draw_legend(result)
        self._draw_status(result, frame)

    def _zoom(self, result: cs.Result) -> int:
        """2 (cells two lines high, one column wider) when the screen has room for it, else 1."""
        cfg = result.config
        rows = len(result.full[0]) if cfg.mode == "transposed" else len(result.padded[0])
        cols = len(result.full[0][0]) if cfg.mode == "transposed" else len(result.padded[0][0])
        width, height = self.size
        groups = cfg.input_shape[0] if cfg.mode == "conv" else 1
        # cell width 3 or 4 plus the gap: a rough bound of the grids' width at zoom 2
        wide = groups * (cols * 5 + 4 + cfg.kernel_size[1] * 5 + 4) + len(result.output[0][0]) * 5 + 4
        return 2 if height >= 34 and 2 * rows + 14 <= height and wide <= width else 1

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

    # -- cached per result: scales, formatted cells and colour buckets ------------------------

    def _cache(self, result: cs.Result) -> dict:
        if self._cached.get("id") != id(result):
            cfg = result.config
            kernel_values = [v for a in cfg.kernel for b in a for row in b for v in row] if cfg.mode != "max" and cfg.mode != "avg" else []
            out_values = [v for plane in (result.full or result.output) for row in plane for v in row]
            self._cached = {
                "id": id(result),
                "input": Scale.of(v for plane in result.padded for row in plane for v in row),
                "kernel": Scale.of(kernel_values),
                "output": Scale.of(out_values),
            }
        return self._cached

    def _input_cells(self, result: cs.Result, ch: int) -> tuple[list[list[str]], dict, list]:
        """Formatted padded-input cells, padding marks and colour buckets of one channel."""
        cache = self._cache(result)
        key = ("in", ch)
        if key not in cache:
            plane = result.padded[ch]
            cells = [[PENDING if v is None else cs.fmt(v) for v in row] for row in plane]
            pads = {(r, c): ("pad",) for r in range(len(plane)) for c in range(len(plane[0]))
                    if result.is_padding(r, c)}
            cache[key] = (cells, pads, cache["input"].buckets(plane))
        return cache[key]

    def _kernel_cells(self, result: cs.Result, a: int, b: int) -> tuple[list[list[str]], list]:
        cache = self._cache(result)
        key = ("k", a, b)
        if key not in cache:
            kern = result.config.kernel[a][b]
            cache[key] = ([[cs.fmt(v) for v in row] for row in kern], cache["kernel"].buckets(kern))
        return cache[key]

    def _output_cells(self, result: cs.Result, o: int) -> tuple[list[list[str]], int, list]:
        """Formatted output cells, their common width and colour buckets of one channel."""
        cache = self._cache(result)
        key = ("out", o)
        if key not in cache:
            cells = [[cs.fmt(v) for v in row] for row in result.output[o]]
            cache[key] = (cells, max(len(c) for row in cells for c in row), cache["output"].buckets(result.output[o]))
        return cache[key]

    def _groups(self, n: int) -> list[ChannelGroup]:
        """Exactly n channel groups (input beside its kernel slice), mounting or removing some."""
        box = self.query_one("#conv-channels")
        groups = list(box.query_children(ChannelGroup))
        for extra in groups[n:]:
            extra.remove()
        groups = groups[:n]
        if len(groups) < n:
            new = [ChannelGroup(k) for k in range(len(groups), n)]
            box.mount_all(new)
            groups += new
        return groups

    def _draw_sliding(self, result: cs.Result, frame: cs.Frame, zoom: int) -> None:
        cfg = result.config
        o = frame.out_index[0]
        conv = cfg.mode == "conv"
        channels = list(range(cfg.input_shape[0])) if conv else [o]
        groups = self._groups(len(channels))
        cache = self._cache(result)
        kh, kw = cfg.kernel_size
        sums = ([sum(x * w for (x, w), c in zip(frame.terms, frame.channels) if c == k) for k in channels]
                if conv else [])
        for g, ch in zip(groups, channels):
            plane = result.padded[ch]
            cells, base_marks, heat = self._input_cells(result, ch)
            marks = dict(base_marks)
            for cell in frame.window:
                marks[cell] = marks.get(cell, ()) + ("window",)
            g.input.set_zoom(zoom)
            g.input.show(cells, marks, heat=heat, palette=cache["input"].styles)
            label = "input+pad" if any(cfg.padding) else "input"
            if cfg.input_shape[0] > 1:  # several boxes side by side: short titles
                label = f"ch {ch}{'+pad' if any(cfg.padding) else ''}"
            self._set_title(g.input_box, g.input, f"{label} {len(plane)}x{len(plane[0])}")
            g.set_class(conv and len(channels) > 1 and ch == self.channel, "-selected")
            self._scroll_cells_into_view(g.input, g.input_box, frame.window)
            g.kernel.set_zoom(zoom)
            if conv:
                kcells, kheat = self._kernel_cells(result, o, ch)
                g.kernel.show(kcells, heat=kheat, palette=cache["kernel"].styles)
                self._set_title(g.kernel_box, g.kernel, f"k {o},{ch}" if cfg.kernel_shape[0] * cfg.kernel_shape[1] > 1
                                else "kernel")
                self._set_title(g.kernel_box, g.kernel, f"Σ {cs.fmt(sums[ch])}", subtitle=True)
            else:
                g.kernel.show([[cfg.mode] * kw for _ in range(kh)],
                              {(a, b): ("window",) for a in range(kh) for b in range(kw)})
                self._set_title(g.kernel_box, g.kernel, f"{cfg.mode} {kh}x{kw}")
                self._set_title(g.kernel_box, g.kernel, "", subtitle=True)
        if conv and len(channels) > 1:
            self.query_one("#conv-channels").scroll_to_widget(groups[self.channel], animate=False, immediate=True)

        out_plane = result.output[o]
        oh, ow = len(out_plane), len(out_plane[0])
        done = self.index - o * oh * ow  # cells of this channel written so far, minus one
        formatted, width, buckets = self._output_cells(result, o)
        ocells, omarks, oheat = [], {}, []
        for i, row in enumerate(formatted):
            cut = max(0, min(ow, done - i * ow + 1))
            if cut == ow:
                ocells.append(row)
                oheat.append(buckets[i])
                continue
            ocells.append(row[:cut] + [PENDING] * (ow - cut))
            oheat.append(buckets[i][:cut] + [None] * (ow - cut))
            for j in range(cut, ow):
                omarks[(i, j)] = ("pending",)
        omarks[frame.out_index[1:]] = ("focus",)
        ogrid = self.query_one("#conv-output", MatrixGrid)
        ogrid.set_zoom(zoom)
        ogrid.show(ocells, omarks, width, heat=oheat, palette=cache["output"].styles)
        ochan = f" ch {o}" if len(result.output) > 1 else ""
        obox = self.query_one("#conv-output-box")
        self._set_title(obox, ogrid, f"output{ochan} {oh}x{ow}")
        self._set_title(obox, ogrid, f"bias {cs.fmt(frame.bias)}" if conv and frame.bias else "", subtitle=True)
        self._scroll_cells_into_view(ogrid, obox, [frame.out_index[1:]])

    def _draw_transposed(self, result: cs.Result, frame: cs.Frame, zoom: int) -> None:
        cfg = result.config
        cache = self._cache(result)
        c, i0, j0 = frame.in_index
        o = frame.out_index[0]
        x = cfg.input[c]
        (g,) = self._groups(1)
        g.set_class(False, "-selected")
        order = (o * cfg.input_shape[0] + c) * len(x) * len(x[0])
        marks = {}
        for i in range(len(x)):
            for j in range(len(x[0])):
                if (i, j) == (i0, j0):
                    marks[(i, j)] = ("window",)
                elif order + i * len(x[0]) + j > self.index:
                    marks[(i, j)] = ("pending",)
        cells, _, heat = self._input_cells(result, c)  # transposed: padded is the input itself
        g.input.set_zoom(zoom)
        g.input.show(cells, marks, heat=heat, palette=cache["input"].styles)
        chan = f" ch {c}" if cfg.input_shape[0] > 1 else ""
        self._set_title(g.input_box, g.input, f"input{chan} {len(x)}x{len(x[0])}")
        self._scroll_cells_into_view(g.input, g.input_box, [(i0, j0)])

        kcells, kheat = self._kernel_cells(result, c, o)
        g.kernel.set_zoom(zoom)
        g.kernel.show(kcells, heat=kheat, palette=cache["kernel"].styles)
        kchan = f" {c},{o}" if cfg.kernel_shape[0] * cfg.kernel_shape[1] > 1 else ""
        self._set_title(g.kernel_box, g.kernel, f"kernel{kchan}")
        self._set_title(g.kernel_box, g.kernel, f"x {cs.fmt(frame.value)}", subtitle=True)

        # The uncropped output as it stands after this step; cropped border styled like padding.
        plane = result.full[o]
        canvas, touched = cs.canvas_after(result, self.index)
        window = set(frame.window)
        scale = cache["output"]
        cells, omarks, oheat = [], {}, []
        for r, row in enumerate(canvas):
            cells.append([cs.fmt(v) for v in row])
            oheat.append([scale.bucket(v) if (r, col) in touched else None for col, v in enumerate(row)])
            for col in range(len(row)):
                names = (("pad",) if result.is_padding(r, col) else ()) + (
                    ("scatter",) if (r, col) in window else () if (r, col) in touched else ("pending",))
                if names:
                    omarks[(r, col)] = names
        width = max(len(cs.fmt(v)) for row in plane for v in row)
        ogrid = self.query_one("#conv-output", MatrixGrid)
        ogrid.set_zoom(zoom)
        ogrid.show(cells, omarks, width, heat=oheat, palette=scale.styles)
        oh, ow = result.output_shape[1:]
        crop = f" → {oh}x{ow}" if any(cfg.padding) else ""
        obox = self.query_one("#conv-output-box")
        self._set_title(obox, ogrid, f"output {len(plane)}x{len(plane[0])}{crop}")
        self._set_title(obox, ogrid, "", subtitle=True)
        self._scroll_cells_into_view(ogrid, obox, frame.window)

    def _draw_legend(self, result: cs.Result) -> None:
        cache = self._cache(result)
        if "legend" not in cache:
            cfg = result.config
            text = Text(no_wrap=True, overflow="ellipsis")
            parts = [("input", cache["input"])]
            if cfg.mode in ("conv", "transposed"):
                parts.append(("kernel", cache["kernel"]))
            parts.append(("output", cache["output"]))
            for k, (label, scale) in enumerate(parts):
                if k:
                    text.append("  ")
                text.append_text(scale.legend(label, cs.fmt))
            if any(cfg.padding):
                text.append("  ")
                text.append(f"{PAD_FILL * 2}0", style="dim")
                text.append(" cropped" if cfg.mode == "transposed" else " padding")
            cache["legend"] = text
            self.query_one("#conv-legend", Static).update(text)

    def _set_text(self, selector: str, value: Any) -> None:
        """Update a Static only when its content changes: a step then repaints just what moved."""
        if self._texts.get(selector) != value:
            self._texts[selector] = value
            self.query_one(selector, Static).update(value)

    def _set_title(self, box: Widget, grid: MatrixGrid, title: str, subtitle: bool = False) -> None:
        """Set a box's border title (or subtitle) and widen its grid so that it shows whole."""
        if subtitle:
            if box.border_subtitle != title:
                box.border_subtitle = title
        elif box.border_title != title:
            box.border_title = title
        else:
            return
        grid.fit_label(str(box.border_title or ""), str(box.border_subtitle or ""))

    def _scroll_cells_into_view(self, grid: MatrixGrid, box: Widget, cells: Any) -> None:
        cells = list(cells)
        if not cells:
            return
        rows = [r for r, _ in cells]
        cols = [c for _, c in cells]
        x0, y0, w = grid.cell_region(min(rows), min(cols))
        x1, y1, _ = grid.cell_region(max(rows), max(cols))
        region = Region(x0, y0, x1 + w - x0, y1 + grid.zoom - y0)
        box.scroll_to_region(region, animate=False, immediate=True)

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

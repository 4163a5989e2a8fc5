"""The training form: the engine options of `TrainConfig`, grouped as what / how / where.

what: model, data set and the model's own options (hidden sizes, activation, dropout, batch norm;
those a model does not take are greyed out); how: optimizer, lr, momentum, weight decay, seed,
epochs, batch size, lr schedule and warm-up; fine-tune: start from a run's weights, which modules
train, which are re-initialised; where: device and mixed precision. (Multi-process training,
channels-last, threads and the data folder are CLI options: `dllab train --help`.) The form only holds values and shows errors;
the panel validates (through `TrainConfig.validated()`) and calls `set_error(field, message)`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from textual.app import ComposeResult
from textual.containers import Grid
from textual.widget import Widget
from textual.widgets import Input, Label, Select, Static

from tui_lab.i18n import N_, _
from tui_lab.model_options import DEFAULTS as OPTION_DEFAULTS
from tui_lab.model_options import OPTIONS, applies

# field -> label, in the form's order
FIELDS: dict[str, str] = {  # labels written in English (N_) and shown in the current language (_)
    "model": N_("model"), "dataset": N_("data"), "hidden": N_("hidden"), "activation": N_("act"),
    "dropout": N_("drop"), "batch_norm": N_("BN"),
    "optimizer": N_("optim"), "lr": N_("lr"), "momentum": N_("mom"), "weight_decay": N_("wd"), "seed": N_("seed"),
    "epochs": N_("epochs"), "batch_size": N_("batch"), "schedule": N_("sched"), "warmup": N_("warm"),
    "init_from": N_("from"), "trainable": N_("train"), "reset": N_("reset"),
    "device": N_("device"), "amp": N_("amp"),
}
SELECTS = ("model", "dataset", "optimizer", "device", "activation", "batch_norm", "amp", "schedule")
# (group title, rows of one field spanning the row or two side by side)
LAYOUT: tuple[tuple[str, tuple[tuple[str, ...], ...]], ...] = (
    (N_("what"), (("model",), ("dataset",), ("hidden", "activation"), ("dropout", "batch_norm"))),
    (N_("how"), (("optimizer",), ("lr", "momentum"), ("weight_decay", "seed"), ("epochs", "batch_size"),
             ("schedule", "warmup"))),
    (N_("fine-tune from a run"), (("init_from", "trainable"), ("reset",))),
    (N_("where"), (("device", "amp"),)),
)
PLACEHOLDERS = {"momentum": "default", "weight_decay": "0", "seed": "0", "warmup": "0", "init_from": "run id",
                "trainable": "all", "reset": "none"}


class TrainForm(Widget):
    """Labelled fields in a four-column grid (label, field, label, field), one line each, with a
    group title above each group: fits the 38-column left pane at 80x24."""

    DEFAULT_CSS = """
    TrainForm { height: auto; }
    TrainForm Grid { grid-size: 4; grid-columns: 6 1fr 5 1fr; grid-rows: 1; grid-gutter: 0 1; height: auto; }
    TrainForm .form-group { column-span: 4; color: $text-accent; text-style: bold; }
    TrainForm .wide { column-span: 3; }
    TrainForm Label { color: $text-muted; }
    TrainForm .-invalid-field { color: $error; text-style: bold; }
    TrainForm #form-error { color: $error; height: auto; min-height: 1; }
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._choices: dict[str, list[str]] = {}

    def compose(self) -> ComposeResult:
        with Grid():
            for title, rows in LAYOUT:
                yield Static(_(title), classes="form-group", id=f"group-{title.split()[0]}")
                for row in rows:
                    for name in row:
                        yield Label(_(FIELDS[name]), id=f"label-{name}")
                        classes = "wide" if len(row) == 1 else ""
                        if name in SELECTS:
                            yield Select([], id=f"field-{name}", compact=True, allow_blank=True, prompt="…",
                                         classes=classes)
                        else:
                            yield Input(id=f"field-{name}", compact=True, classes=classes,
                                        placeholder=PLACEHOLDERS.get(name, ""))
        yield Static("", id="form-error")

    def apply_language(self) -> None:
        """Labels and group titles in the current language (F9 switches it live)."""
        for title, _rows in LAYOUT:
            self.query_one(f"#group-{title.split()[0]}", Static).update(_(title))
        for name, label in FIELDS.items():
            self.query_one(f"#label-{name}", Label).update(_(label))

    def field(self, name: str) -> Select | Input:
        return self.query_one(f"#field-{name}")

    def set_choices(self, name: str, choices: Iterable[tuple[str, str]]) -> None:
        choices = list(choices)
        self._choices[name] = [value for _, value in choices]
        self.field(name).set_options(choices)

    def set_value(self, name: str, value: Any) -> None:
        widget = self.field(name)
        if isinstance(widget, Select):
            widget.value = value if value in self._choices.get(name, []) else Select.NULL
        else:
            widget.value = "" if value is None else str(value)

    def values(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in FIELDS:
            widget = self.field(name)
            if isinstance(widget, Select):
                out[name] = None if widget.value is Select.NULL else widget.value
            else:
                out[name] = widget.value.strip()
        return out

    def show_model_options(self, model: str | None) -> None:
        """Grey out the options `model` does not take; placeholders show the model's defaults."""
        defaults = OPTION_DEFAULTS.get((model or "").lower(), {})
        for name in OPTIONS:
            on = applies(name, model)
            widget = self.field(name)
            widget.disabled = not on or getattr(self, "_locked", False)
            self.query_one(f"#label-{name}", Label).set_class(not on, "-not-applicable")
            if isinstance(widget, Input):
                widget.placeholder = defaults.get(name, "") if on else "—"

    def set_error(self, name: str | None, message: str = "") -> None:
        """Flag one field (or none) and show the message under the form."""
        for field_name in FIELDS:
            flagged = field_name == name
            self.query_one(f"#label-{field_name}", Label).set_class(flagged, "-invalid-field")
            self.field(field_name).set_class(flagged, "-invalid")
        text = f"{_(FIELDS.get(name or '', name or ''))}: {message}" if name else ""
        if text != getattr(self, "_error_shown", None):  # an update is a layout pass: only when it changes
            self._error_shown = text
            self.query_one("#form-error", Static).update(text)

    def set_locked(self, locked: bool) -> None:
        """Disable the fields while a run is going."""
        self._locked = locked
        for name in FIELDS:
            self.field(name).disabled = locked
        if not locked:
            self.show_model_options(self.values()["model"])

"""The training form: model, data set, optimizer, learning rate, batch size, epochs and device.

It only holds values and shows errors; the screen validates (through `TrainConfig.validated()`)
and calls `set_error(field, message)` to flag the field inline.
"""

from __future__ import annotations

from typing import Any, Iterable

from textual.app import ComposeResult
from textual.containers import Grid
from textual.widget import Widget
from textual.widgets import Input, Label, Select, Static

# field -> label; the order of the form
FIELDS: dict[str, str] = {
    "model": "model",
    "dataset": "data",
    "optimizer": "optim",
    "lr": "lr",
    "batch_size": "batch",
    "epochs": "epochs",
    "device": "device",
}
SELECTS = ("model", "dataset", "optimizer", "device")


class TrainForm(Widget):
    """Seven labelled fields in a grid, one row each (compact widgets fit 80x24)."""

    DEFAULT_CSS = """
    TrainForm { height: auto; }
    TrainForm Grid { grid-size: 2; grid-columns: 7 1fr; grid-rows: 1; grid-gutter: 0 1; height: auto; }
    TrainForm Label { color: $text-muted; }
    TrainForm .-invalid-field { color: $error; text-style: bold; }
    TrainForm #form-error { color: $error; height: auto; min-height: 1; }
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._choices: dict[str, list[str]] = {}

    def compose(self) -> ComposeResult:
        with Grid():
            for name, label in FIELDS.items():
                yield Label(label, id=f"label-{name}")
                if name in SELECTS:
                    yield Select([], id=f"field-{name}", compact=True, allow_blank=True, prompt="…")
                else:
                    yield Input(id=f"field-{name}", compact=True)
        yield Static("", id="form-error")

    def field(self, name: str) -> Select | Input:
        return self.query_one(f"#field-{name}")

    def set_choices(self, name: str, choices: Iterable[tuple[str, str]]) -> None:
        choices = list(choices)
        self._choices[name] = [value for _, value in choices]
        self.field(name).set_options(choices)

    def set_value(self, name: str, value: Any) -> None:
        widget = self.field(name)
        if isinstance(widget, Select):
            widget.value = value if value in self._choices.get(name, []) else Select.BLANK
        else:
            widget.value = "" if value is None else str(value)

    def values(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in FIELDS:
            widget = self.field(name)
            if isinstance(widget, Select):
                out[name] = None if widget.value is Select.BLANK else widget.value
            else:
                out[name] = widget.value.strip()
        return out

    def set_error(self, name: str | None, message: str = "") -> None:
        """Flag one field (or none) and show the message under the form."""
        for field_name in FIELDS:
            flagged = field_name == name
            self.query_one(f"#label-{field_name}", Label).set_class(flagged, "-invalid-field")
            self.field(field_name).set_class(flagged, "-invalid")
        self.query_one("#form-error", Static).update(f"{FIELDS.get(name or '', name)}: {message}" if name else "")

    def set_locked(self, locked: bool) -> None:
        """Disable the fields while a run is going."""
        for name in FIELDS:
            self.field(name).disabled = locked

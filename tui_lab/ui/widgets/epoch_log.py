"""The newest finished epochs as a small table that fits its box; cheap to update while training.

A DataTable re-lays-out the screen each time a row is added; this is one Static redrawn in place,
so the train screen's cost stays flat. The full table of a run is on the run's curves screen.
"""

from __future__ import annotations

from rich.table import Table
from textual.widgets import Static

from tui_lab.ui.widgets.epoch_table import fmt


class EpochLog(Static):
    """Header plus the last rows that fit the widget's height."""

    def __init__(self, **kwargs) -> None:
        super().__init__("", **kwargs)
        self.rows: list = []

    def on_mount(self) -> None:
        self._draw()

    def on_resize(self) -> None:
        self._draw()

    def clear(self) -> None:
        self.rows = []
        self._draw()

    def add_epochs(self, rows) -> None:
        if rows:
            self.rows.extend(rows)
            self._draw()

    @property
    def row_count(self) -> int:
        return len(self.rows)

    def _draw(self) -> None:
        table = Table(box=None, pad_edge=False, show_edge=False, expand=False, header_style="bold")
        for name, justify in (("ep", "right"), ("train loss", "right"), ("val loss", "right"), ("val acc", "right")):
            table.add_column(name, justify=justify, no_wrap=True)
        fits = max(0, (self.size.height or 12) - 1)
        for row in self.rows[-fits:] if fits else []:
            table.add_row(str(row.epoch), fmt(row.train_loss), fmt(row.val_loss), fmt(row.val_acc, pct=True))
        self.update(table, layout=False)

    def cells(self) -> list[list[str]]:
        """The rows as shown (for tests): epoch, train loss, val loss, val acc."""
        return [[str(r.epoch), fmt(r.train_loss), fmt(r.val_loss), fmt(r.val_acc, pct=True)] for r in self.rows]

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
        self.live: set[int] = set()  # epochs during which lr/momentum/weight decay were changed live

    def on_mount(self) -> None:
        self._draw()

    def on_resize(self) -> None:
        self._draw()

    def clear(self) -> None:
        self.rows = []
        self.live = set()
        self._draw()

    def mark_live(self, epochs: set[int]) -> None:
        """Epochs whose hyperparameters were changed while they ran: their lr shows a `*`."""
        if epochs != self.live:
            self.live = set(epochs)
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
        for name, justify in (("ep", "right"), ("loss", "right"), ("val loss", "right"), ("val acc", "right"),
                              ("lr", "left")):
            table.add_column(name, justify=justify, no_wrap=True)
        fits = max(0, (self.size.height or 12) - 1)
        for row in self.rows[-fits:] if fits else []:
            table.add_row(*self._cells(row))
        self.update(table, layout=False)

    def _cells(self, row) -> list[str]:
        lr = getattr(row, "lr", None)
        return [str(row.epoch), fmt(row.train_loss), fmt(row.val_loss), fmt(row.val_acc, pct=True),
                ("–" if lr is None else lr_text(lr)) + ("*" if row.epoch in self.live else "")]

    def cells(self) -> list[list[str]]:
        """The rows as shown (for tests): epoch, train loss ("loss"), val loss, val acc, lr (`*`: lr, momentum
        or weight decay changed live during that epoch)."""
        return [self._cells(r) for r in self.rows]


def lr_text(lr: float) -> str:
    """A learning rate in at most 6 characters: 0.01, 0.0025, 3.1e-05."""
    return f"{lr:.2g}"


BARS = "▁▂▃▄▅▆▇█"


def lr_line(lrs: list[float | None], live: set[int], width: int = 36) -> str:
    """Each epoch's lr as a bar (the run's largest lr is the full bar), then first -> last value:
    `lr ▇▇▆▄▂▁ 0.01→0.00067`; epochs changed live get a `*` under the line's legend. '' without lrs."""
    known = [(epoch, lr) for epoch, lr in enumerate(lrs, start=1) if lr is not None]
    if not known:
        return ""
    top = max(lr for _, lr in known) or 1.0
    ends = lr_text(known[0][1]) + ("" if known[-1][1] == known[0][1] else "→" + lr_text(known[-1][1]))
    tail = "  *live" if live else ""
    room = max(1, width - 4 - len(ends) - len(tail))
    bars = "".join(BARS[min(len(BARS) - 1, int(round((len(BARS) - 1) * lr / top)))] for _, lr in known[-room:])
    return f"lr {bars} {ends}{tail}"

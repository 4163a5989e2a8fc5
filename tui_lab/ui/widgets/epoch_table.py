"""A table of finished epochs: losses, accuracies and speed, one row each."""

from __future__ import annotations

from textual.widgets import DataTable


def fmt(x: float | None, pct: bool = False) -> str:
    if x is None:
        return "–"
    return f"{100 * x:.1f}%" if pct else f"{x:.4f}"


class EpochTable(DataTable):
    """Rows of epoch results; `add_epoch` takes anything with EpochEnd/EpochRow fields."""

    def __init__(self, show_speed: bool = True, **kwargs) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self.show_speed = show_speed

    def on_mount(self) -> None:
        self.add_column("ep", key="epoch")
        self.add_column("train loss", key="train_loss")
        self.add_column("val loss", key="val_loss")
        self.add_column("val acc", key="val_acc")
        if self.show_speed:
            self.add_column("ex/s", key="speed")

    def add_epoch(self, row) -> None:
        self.add_epochs([row])

    def add_epochs(self, rows) -> None:
        """Append rows and keep the newest in view (one scroll however many rows came)."""
        if not rows:
            return
        for row in rows:
            cells = [str(row.epoch), fmt(row.train_loss), fmt(row.val_loss), fmt(row.val_acc, pct=True)]
            if self.show_speed:
                cells.append("–" if row.examples_per_sec is None else f"{row.examples_per_sec:,.0f}")
            self.add_row(*cells)
        self.move_cursor(row=self.row_count - 1)

"""A one-line banner saying what happened to the run store (damaged and moved aside, or unusable).

Hidden while the store is fine. It reads `app.store_message()`, so every screen that shows one says
the same thing; the styling is in dllab.tcss (`StoreBanner`, `.-problem`).
"""

from __future__ import annotations

from textual.widgets import Static


class StoreBanner(Static):
    """`History off: ...` (the store cannot be used) or `Run store ... was damaged ...; moved it to ...`."""

    def on_mount(self) -> None:
        self.refresh_message()

    def refresh_message(self) -> None:
        get = getattr(self.app, "store_message", None)
        message, problem = get() if get is not None else (None, False)
        self.display = message is not None
        self.set_class(problem, "-problem")
        if message is not None:
            self.update(message)

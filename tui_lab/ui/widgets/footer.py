"""The key bar at the bottom of every screen, showing only the bindings that fit whole.

Textual's Footer cuts the last binding mid-word when the terminal is narrow (`f` of `f2 Lessons` at
80 columns). This one drops the bindings that would not fit (F1 help lists them all) and keeps the
palette key on the right. Screens import `Footer` from here instead of `textual.widgets`.
Descriptions are shown in the current language (`tui_lab.i18n`); `DllabApp` recomposes every footer
when the language changes.
"""

from __future__ import annotations

from rich.cells import cell_len
from textual.app import ComposeResult
from textual.widgets import Footer as TextualFooter
from textual.widgets._footer import FooterKey


def key_width(key: FooterKey, palette: bool = False) -> int:
    """Cells a FooterKey takes in the default (not compact) style: ` key description `."""
    width = cell_len(key.key_display) + 2
    if key.description:
        width += cell_len(key.description) + 1
    return width + (2 if palette else 0)  # the palette key's left border and right padding


class Footer(TextualFooter):
    """Textual's Footer, minus the bindings that do not fit whole in its width."""

    def compose(self) -> ComposeResult:
        from tui_lab.i18n import _

        widgets = list(super().compose())
        for widget in widgets:  # bindings are written in English (N_) and translated as they are shown
            if isinstance(widget, FooterKey) and widget.description:
                widget.description = _(widget.description)
        width = self.size.width or self.app.size.width
        palette = [w for w in widgets if isinstance(w, FooterKey) and w.has_class("-command-palette")]
        room = width - sum(key_width(k, palette=True) for k in palette)
        used = 0
        for widget in widgets:
            if widget in palette:
                continue
            need = key_width(widget) if isinstance(widget, FooterKey) else cell_len(str(getattr(widget, "renderable", "")))
            if used + need > room:
                break
            used += need
            yield widget
        yield from palette

    def on_resize(self) -> None:
        if self._bindings_ready and self.is_attached:
            self.call_after_refresh(self.recompose)

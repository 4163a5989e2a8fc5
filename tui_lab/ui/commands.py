"""The command palette provider: the app's actions, every lesson tool and every lesson, fuzzy-matched."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

ACTIONS: tuple[tuple[str, str, str], ...] = (
    ("Lessons: the catalog", "lessons", "Browse the lessons by section (F2)"),
    ("Train a model", "train", "The training screen: form, live plots, epoch table (F3)"),
    ("Runs: training history", "runs", "Every run, from the app or the CLI; overlay curves (F4)"),
    ("Devices", "devices", "CPU and GPUs with their memory (F5)"),
    ("Help: all key bindings", "help", "Every binding of every screen (F1)"),
)


def tool_commands(open_tool) -> list[tuple[str, object, str]]:
    """One palette entry per lesson tool that is built: `Tool: the convolution stepper`."""
    from tui_lab.ui.tools import TOOL_SCREENS, tool_available, tool_title

    return [(f"Tool: {tool_title(tool, article=False)}", partial(open_tool, tool, None),
             f"Open the {tool} tool with its defaults")
            for tool in TOOL_SCREENS if tool != "train" and tool_available(tool)]


class DllabCommands(Provider):
    """Offers the app's navigation actions, opens any tool, and any lesson by title."""

    def _commands(self) -> list[tuple[str, object, str]]:
        app = self.app
        items: list[tuple[str, object, str]] = [
            (name, partial(app.run_action, action), help_text) for name, action, help_text in ACTIONS
        ]
        if hasattr(app, "open_tool"):
            items.extend(tool_commands(app.open_tool))
        for lesson in getattr(app, "lessons", []):
            items.append((f"Lesson: {lesson.title}", partial(app.open_lesson, lesson.id), lesson.summary))
        return items

    async def discover(self) -> Hits:
        for name, callback, help_text in self._commands():
            if name.startswith("Lesson: "):  # the lessons show up when the learner types
                break
            yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, callback, help_text in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help_text)

"""The command palette provider: the app's actions and every lesson, fuzzy-matched by name."""

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


class DllabCommands(Provider):
    """Offers the app's navigation actions and opens any lesson by title."""

    def _commands(self) -> list[tuple[str, object, str]]:
        app = self.app
        items: list[tuple[str, object, str]] = [
            (name, partial(app.run_action, action), help_text) for name, action, help_text in ACTIONS
        ]
        for lesson in getattr(app, "lessons", []):
            items.append((f"Lesson: {lesson.title}", partial(app.open_lesson, lesson.id), lesson.summary))
        return items

    async def discover(self) -> Hits:
        for name, callback, help_text in self._commands()[: len(ACTIONS)]:
            yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, callback, help_text in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help_text)

"""The command palette provider: the app's actions, every lesson tool and every lesson, fuzzy-matched."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from tui_lab.i18n import N_, _

ACTIONS: tuple[tuple[str, str, str], ...] = (
    (N_("Lessons: the catalog"), "lessons", N_("Browse the lessons by section (F2)")),
    (N_("Train a model"), "train", N_("The training screen: form, live plots, epoch table (F3)")),
    (N_("Runs: training history"), "runs", N_("Every run, from the app or the CLI; overlay curves (F4)")),
    (N_("Devices"), "devices", N_("CPU and GPUs with their memory (F5)")),
    (N_("Glossary (术语表)"), "glossary", N_("Every term in Chinese and English, with its lesson; type to filter (F6)")),
    (N_("Language: 中文 / English"), "switch_lang", N_("Switch the interface and the lessons between English and Chinese (F9)")),
    (N_("Help: all key bindings"), "help", N_("Every binding of every screen (F1)")),
)


def lesson_prefix() -> str:
    return _("Lesson: ")


def tool_commands(open_tool) -> list[tuple[str, object, str]]:
    """One palette entry per lesson tool that is built: `Tool: the convolution stepper`."""
    from tui_lab.ui.tools import TOOL_SCREENS, tool_available, tool_title

    return [(_("Tool: {tool}").format(tool=tool_title(tool, article=False)), partial(open_tool, tool, None),
             _("Open the {tool} tool with its defaults").format(tool=tool))
            for tool in TOOL_SCREENS if tool != "train" and tool_available(tool)]


class DllabCommands(Provider):
    """Offers the app's navigation actions, opens any tool, and any lesson by title."""

    def _commands(self) -> list[tuple[str, object, str]]:
        app = self.app
        items: list[tuple[str, object, str]] = [
            (_(name), partial(app.run_action, action), _(help_text)) for name, action, help_text in ACTIONS
        ]
        if hasattr(app, "open_tool"):
            items.extend(tool_commands(app.open_tool))
        for lesson in getattr(app, "lessons", []):
            items.append((lesson_prefix() + lesson.title, partial(app.open_lesson, lesson.id), lesson.summary))
        return items

    async def discover(self) -> Hits:
        for name, callback, help_text in self._commands():
            if name.startswith(lesson_prefix()):  # the lessons show up when the learner types
                break
            yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, callback, help_text in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help_text)

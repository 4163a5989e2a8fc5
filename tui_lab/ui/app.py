"""The dllab Textual app: three modes (lessons, train, runs), global bindings and the palette.

`run_app()` is what `dllab` with no arguments calls. The catalog paints first; torch and the training
engine are imported in a background thread after mount, and screens that need them wait for
`TorchReady`. Flows live in the screens; this module only routes between them.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from textual import work
from textual.app import App
from textual.binding import Binding
from textual.screen import Screen

from tui_lab.i18n import N_, _
from tui_lab.ui.commands import DllabCommands
from tui_lab.ui.messages import TorchReady
from tui_lab.ui.screens.catalog import CatalogScreen
from tui_lab.ui.screens.runs import RunsScreen
from tui_lab.ui.screens.too_small import TooSmallScreen
from tui_lab.ui.screens.train import TrainScreen

MIN_WIDTH, MIN_HEIGHT = 80, 24


class DllabApp(App):
    """A deep-learning learning lab: lessons, live training and run history, keyboard first."""

    TITLE = "dllab"
    CSS_PATH = "dllab.tcss"
    COMMANDS = App.COMMANDS | {DllabCommands}
    MODES = {"lessons": CatalogScreen, "train": TrainScreen, "runs": RunsScreen}
    DEFAULT_MODE = "lessons"
    # descriptions are English, marked with N_ and translated where they are shown (footer, help)
    BINDINGS = [
        Binding("f1", "help", N_("Help")),
        Binding("f2", "lessons", N_("Lessons")),
        Binding("f3", "train", N_("Train")),
        Binding("f4", "runs", N_("Runs")),
        Binding("f5", "devices", N_("Devices"), show=False),
        Binding("f6", "glossary", N_("Glossary")),
        Binding("f9", "switch_lang", N_("中文"), priority=True),  # says what it switches to ("English" in
        # Chinese); priority: it works over the help and in a text box too
        Binding("question_mark", "help", N_("Help"), show=False),  # text inputs take `?` first
        Binding("ctrl+q", "quit", N_("Quit"), priority=True),
    ]

    def __init__(self, lessons_dir: str | os.PathLike | None = None, store_path: str | os.PathLike | None = None,
                 warm_torch: bool = True, lang: str | None = None, remember: bool = False, **kwargs: Any) -> None:
        """`lang`: "en" or "zh"; None chooses as `tui_lab.i18n.resolve_lang` does (DLLAB_LANG, the saved
        setting, the locale). `remember`: save `lang` as the setting (the flag `dllab --lang` was given)."""
        super().__init__(**kwargs)
        from tui_lab.ui.cjk import enable_cjk_wrap

        enable_cjk_wrap()  # Chinese paragraphs break between characters, not only at spaces
        self.lessons_dir = Path(lessons_dir) if lessons_dir else None
        self.store_path = store_path
        self.warm = warm_torch
        self.torch_ready = False
        self.torch_error: str | None = None
        self._store = None
        self.store_notice: str | None = None  # a damaged store was moved aside (one line)
        self.store_problem: str | None = None  # the store cannot be used: history is off (one line)
        self.lessons: list = []
        self.lesson_errors: list = []
        self.lang = self._choose_lang(lang, remember)
        self.load_lessons()

    # ------------------------------------------------------------------ shared state

    @property
    def store(self):
        """The run store (SQLite, no torch), opened on first use (on mount, on the UI thread).

        A damaged store is moved aside and a fresh one starts (`store_notice` says where it went); a
        store that cannot be used (read-only or missing DLLAB_HOME) gives an in-memory one instead, so
        the app keeps working without history (`store_problem` says why). Both show as a banner.
        """
        if self._store is None:
            from tui_lab.errors import StoreError
            from tui_lab.runs import RunStore

            try:
                self._store = RunStore(self.store_path)
                self.store_notice = self._store.notice
            except StoreError as exc:
                self.store_problem = str(exc)
                self._store = RunStore.in_memory()
        return self._store

    def store_message(self) -> tuple[str | None, bool]:
        """(banner text or None, whether it is a problem that continues) for StoreBanner."""
        self.store  # noqa: B018 - open it to know
        if self.store_problem:
            return (_("History off: {problem}. Runs and progress are kept only until you quit.").format(
                problem=self.store_problem), True)
        if self.store_notice:
            return (f"{self.store_notice[:1].upper()}{self.store_notice[1:]}.", False)
        return (None, False)

    def _choose_lang(self, lang: str | None, remember: bool) -> str:
        from tui_lab.i18n import DEFAULT_LANG, resolve_lang, saved_lang, set_lang

        try:
            chosen = set_lang(resolve_lang(lang, saved=None if lang else saved_lang(self.store_path)))
        except Exception:  # a bad DLLAB_LANG reaches here only when the app is built directly
            chosen = set_lang(DEFAULT_LANG)
        self._remember_lang = remember  # saved on mount, when the store is opened
        return chosen

    def _save_setting(self, key: str, value: str) -> None:
        try:
            self.store.set_setting(key, value)
        except Exception as exc:  # a read-only or damaged store: the choice holds for this session
            self.notify(_("The setting could not be saved: {error}").format(error=exc), severity="warning")

    def load_lessons(self) -> None:
        """Read the lesson files; a broken file becomes an entry in `lesson_errors`, never a crash."""
        try:
            from tui_lab.lessons import load_lessons
        except Exception as exc:  # the loader itself missing or broken: the app still starts
            self.lessons, self.lesson_errors = [], [f"lessons: cannot load the lesson loader: {exc}"]
            return
        try:
            self.lessons, self.lesson_errors = load_lessons(self.lessons_dir, lang=self.lang)
        except Exception as exc:
            self.lessons, self.lesson_errors = [], [f"lessons: {type(exc).__name__}: {exc}"]

    # ------------------------------------------------------------------ start-up

    def on_mount(self) -> None:
        self.store  # noqa: B018 - open (and check) it on the UI thread, before any screen or worker
        if self.store_problem or self.store_notice:
            self.notify(self.store_problem or self.store_notice or "", title=_("Run store"),
                        severity="error" if self.store_problem else "warning", timeout=12)
        if self._remember_lang:
            from tui_lab.i18n import SETTING_KEY

            self._save_setting(SETTING_KEY, self.lang)
        if self.warm:
            self.import_torch()
        self.call_after_refresh(self._check_size)
        self.screen_change_signal.subscribe(self, self._screen_changed)

    def _screen_changed(self, screen: Screen) -> None:
        """Every full screen but the catalog (whose title line says where you are) gets a breadcrumb."""
        from tui_lab.ui.widgets.breadcrumb import Breadcrumb

        if screen.is_modal or isinstance(screen, (CatalogScreen, TooSmallScreen)):
            return
        existing = screen.query(Breadcrumb)
        if existing:
            existing.first().update_trail()
        else:
            screen.mount(Breadcrumb(id="breadcrumb"))

    @work(thread=True, exclusive=True, exit_on_error=False, group="torch")
    def import_torch(self) -> None:
        """Import torch and the engine off the UI thread so the catalog paints first."""
        error = None
        try:
            import torch  # noqa: F401

            import tui_lab.devices  # noqa: F401
            import tui_lab.models  # noqa: F401
            import tui_lab.training  # noqa: F401
        except Exception as exc:  # torch broken: lessons still work, training says why
            error = f"{type(exc).__name__}: {exc}"
        self.post_message(TorchReady(error))
        try:  # the embedded data sets use scikit-learn: import it now, not when Start is pressed
            import sklearn.datasets  # noqa: F401
        except Exception:
            pass

    def on_torch_ready(self, message: TorchReady) -> None:
        self.torch_ready = message.error is None
        self.torch_error = message.error
        if message.error:
            self.notify(_("torch could not be imported: {error}").format(error=message.error), severity="error",
                        timeout=10)
        for screen in self.live_screens():  # tell every live screen, in every mode
            screen.post_message(TorchReady(message.error))

    def live_screens(self) -> list[Screen]:
        """Every screen on every mode's stack (a mode not entered yet has none)."""
        screens: list[Screen] = []
        for mode in self.MODES:
            try:
                screens.extend(self.get_screen_stack(mode))
            except KeyError:
                continue
        return screens

    # ------------------------------------------------------------------ minimum size

    def on_resize(self) -> None:
        self.call_after_refresh(self._check_size)

    def _check_size(self) -> None:
        width, height = self.size
        too_small = width < MIN_WIDTH or height < MIN_HEIGHT
        showing = isinstance(self.screen, TooSmallScreen)
        if too_small and not showing:
            self.push_screen(TooSmallScreen(MIN_WIDTH, MIN_HEIGHT))
        elif not too_small and showing:
            self.pop_screen()

    # ------------------------------------------------------------------ routing

    def action_lessons(self) -> None:
        """F2: the catalog itself (not the last lesson or tool), the filter focused and its text selected,
        so what the learner types next filters lessons and never reaches a tool's keys."""
        if self.current_mode != "lessons":
            self.switch_mode("lessons")
        catalog = self.screen_stack[0] if self.screen_stack else None
        if not isinstance(catalog, CatalogScreen):
            return
        stopped = [panel for screen in self.screen_stack[1:] for panel in screen.query("TrainPanel")
                   if getattr(panel, "running", False)]
        if self.screen is not catalog:
            catalog.pop_until_active()  # a lesson's running training stops and is recorded as cancelled
        if stopped:
            self.notify(_("The lesson's run was stopped; it is in the history (F4)."), title=_("Run stopped"))
        catalog.focus_filter()

    def action_train(self) -> None:
        self.switch_mode("train")

    def action_runs(self) -> None:
        self.switch_mode("runs")

    def action_help(self) -> None:
        from tui_lab.ui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_glossary(self, lesson_id: str | None = None) -> None:
        """F6: the glossary (术语表); from a lesson (`g`), only the terms that lesson uses."""
        from tui_lab.ui.screens.glossary import GlossaryScreen

        if isinstance(self.screen, GlossaryScreen):
            return
        self.push_screen(GlossaryScreen(lesson_id=lesson_id))

    def action_switch_lang(self) -> None:
        """F9: English <-> 中文, live: lessons reloaded, every screen's texts and key bar redrawn; saved."""
        from tui_lab.i18n import SETTING_KEY, set_lang

        self.lang = set_lang("en" if self.lang == "zh" else "zh")
        self._save_setting(SETTING_KEY, self.lang)
        self.load_lessons()
        self.relabel_screens()
        self.notify(_("Language: English"), timeout=3)

    def relabel_screens(self) -> None:
        """Redraw every live screen's texts in the current language: a screen's own `apply_language()`,
        then its key bar and breadcrumb."""
        from tui_lab.ui.widgets.breadcrumb import Breadcrumb
        from tui_lab.ui.widgets.footer import Footer

        screens = list(dict.fromkeys([*self.live_screens(), *self.screen_stack]))
        for screen in screens:
            apply = getattr(screen, "apply_language", None)
            if callable(apply):
                try:
                    apply()
                except Exception as exc:  # one screen failing to redraw must not stop the others
                    self.notify(f"{type(screen).__name__}: {type(exc).__name__}: {exc}", severity="error")
            for footer in screen.query(Footer):
                footer.call_later(footer.recompose)
            for crumb in screen.query(Breadcrumb):
                crumb.update_trail()
        self.refresh_bindings()

    def action_devices(self) -> None:
        from tui_lab.ui.screens.devices import DevicesScreen

        if not isinstance(self.screen, DevicesScreen):
            self.push_screen(DevicesScreen())

    def open_lesson(self, lesson_id: str) -> None:
        """Open a lesson by id (from the catalog or the command palette)."""
        from tui_lab.ui.screens.lesson import LessonScreen

        lesson = next((lesson for lesson in self.lessons if lesson.id == lesson_id), None)
        if lesson is None:
            self.notify(_("no lesson {lesson_id!r}").format(lesson_id=lesson_id), severity="error")
            return
        if self.current_mode != "lessons":
            self.switch_mode("lessons")
        if len(self.screen_stack) > 1:  # from the palette or the glossary: the new lesson replaces the old path
            self.screen_stack[0].pop_until_active()  # queued (call_later): the push must come after it
            self.call_later(self.push_screen, LessonScreen(lesson))
            return
        self.push_screen(LessonScreen(lesson))

    def open_tool(self, tool: str, preset: dict | None = None) -> Screen | None:
        """Push the screen of a lesson tool with its preset; a tool not built yet says so."""
        from tui_lab.ui.tools import build_tool_screen

        try:
            screen = build_tool_screen(tool, preset)
        except Exception as exc:  # a broken tool screen must not take the app down
            self.notify(f"{tool}: {type(exc).__name__}: {exc}", severity="error", timeout=8)
            return None
        if screen is None:
            self.notify(_("The {tool} tool is coming soon.").format(tool=tool), title=_("Coming soon"))
            return None
        from tui_lab.ui.tools import TOOL_TITLES

        screen.crumb_name = TOOL_TITLES.get(tool, tool)  # English; the breadcrumb translates it
        self.push_screen(screen)
        return screen

    def go_back(self) -> None:
        """Escape on a screen: pop it, or from a mode's first screen return to the lessons."""
        if len(self.screen_stack) > 1:
            self.pop_screen()
        elif self.current_mode != "lessons":
            self.switch_mode("lessons")

    async def action_quit(self) -> None:
        """Stop any run first (within a second) so the history records it as cancelled, then exit."""
        import asyncio
        import time

        from tui_lab.ui.screens.train import TrainPanel

        training = [panel for screen in self.live_screens() for panel in screen.query(TrainPanel) if panel.running]
        for panel in training:
            panel.action_stop()
        deadline = time.monotonic() + 2.0
        while any(s.running for s in training) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        self.exit()

    def on_unmount(self) -> None:
        # The screens have cancelled their runs as they unmounted (a closed terminal or browser tab
        # ends the app this way, without action_quit): let each record its end before the store closes.
        from tui_lab.ui.jobs import wait_for_jobs

        wait_for_jobs(timeout=3.0)
        if self._store is not None:
            self._store.close()


def run_app(lang: str | None = None, remember: bool = False) -> None:
    """Open the app (what `dllab` with no arguments does); `lang` as `DllabApp` takes it.

    When the app has exited (the terminal restored, any run stopped and recorded, the run store
    closed in `on_unmount`) the process ends at once: tearing down torch's and scikit-learn's
    modules takes seconds on a busy machine and has nothing left to save."""
    import sys

    app = DllabApp(lang=lang, remember=remember)
    app.run()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(app.return_code or 0)

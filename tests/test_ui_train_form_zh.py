"""The train form's labels and group titles come from the catalog: Chinese under --lang zh, switched live."""

from __future__ import annotations

import functools

from textual.widgets import Label, Static

from tui_lab import i18n
from tui_lab.ui.screens.train import TrainScreen
from tui_lab.ui.widgets.train_form import FIELDS, LAYOUT
from ui_support import ScreenApp, sync, wait_until

TrainApp = functools.partial(ScreenApp, TrainScreen)


@sync
async def test_form_labels_follow_the_language():
    before = i18n.current_lang()
    try:
        i18n.set_lang("zh")
        app = TrainApp({})
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_until(pilot, lambda: isinstance(app.screen, TrainScreen) and app.screen.is_mounted)
            screen = app.screen
            assert str(screen.query_one("#label-model", Label).render()) == "模型"
            assert str(screen.query_one("#group-what", Static).render()) == "训练什么"
            i18n.set_lang("en")
            screen.apply_language()
            await pilot.pause()
            for name, label in FIELDS.items():
                assert str(screen.query_one(f"#label-{name}", Label).render()) == label
            assert [str(screen.query_one(f"#group-{t.split()[0]}", Static).render()) for t, _ in LAYOUT] == \
                [t for t, _ in LAYOUT]
    finally:
        i18n.set_lang(before)

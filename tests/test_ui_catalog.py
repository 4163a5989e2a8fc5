"""The lesson catalog as a learner uses it: sections, filter by typing, done marks, broken files."""

from __future__ import annotations

import subprocess
import sys

import torch  # noqa: F401  (imported up front: the app would import it in the background)
from textual.widgets import OptionList, Static
from ui_support import make_app, sync, wait_until

from tui_lab.ui.screens.catalog import CatalogScreen
from tui_lab.ui.screens.lesson import LessonScreen


def option_texts(screen) -> list[str]:
    return [str(o.prompt) for o in screen.query_one(OptionList).options]


@sync
async def test_catalog_groups_lessons_by_section_and_lists_broken_files(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, CatalogScreen)
        texts = option_texts(app.screen)
        assert texts[0].startswith("Linear neural networks  0/1")
        assert any("Softmax regression on digits" in t for t in texts)
        assert any(t.startswith("Convolutional networks") for t in texts)
        broken = texts.index("Broken lessons  1")
        assert "04-broken.md" in texts[broken + 1]
        # the broken file's error names the file and the missing field
        await pilot.press("ctrl+u")
        highlighted = app.screen.query_one(OptionList)
        highlighted.highlighted = broken + 1
        await pilot.pause()
        detail = str(app.screen.query_one("#catalog-detail", Static).render())
        assert "04-broken.md" in detail and "order" in detail


@sync
async def test_typing_filters_and_enter_opens_the_lesson(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press(*"percep")
        await pilot.pause()
        texts = option_texts(app.screen)
        assert texts == ["Multilayer perceptrons  0/1", "   Multilayer perceptron  train"]
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, LessonScreen))
        assert app.screen.lesson.id == "mlp-digits"
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, CatalogScreen))
        await pilot.press("escape")  # clears the filter
        await pilot.pause()
        assert len(option_texts(app.screen)) > 4


@sync
async def test_ctrl_d_marks_a_lesson_done_in_the_run_store(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+d")  # the first lesson is highlighted
        await pilot.pause()
        assert app.store.done_lessons() == {"softmax-digits"}
        texts = option_texts(app.screen)
        assert texts[0] == "Linear neural networks  1/1"
        assert texts[1].startswith(" ✓ Softmax regression")
        assert "1/3 done" in str(app.screen.query_one("#catalog-title", Static).render())
        await pilot.press("ctrl+d")
        await pilot.pause()
        assert app.store.done_lessons() == set()


@sync
async def test_down_skips_section_headings(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        option_list = app.screen.query_one(OptionList)
        seen = []
        for _ in range(4):
            seen.append(option_list.highlighted_option.id)
            await pilot.press("down")
        assert seen[:3] == ["lesson:softmax-digits", "lesson:conv-basics", "lesson:mlp-digits"]


@sync
async def test_app_starts_without_a_lessons_folder(tmp_path):
    from tui_lab.ui.app import DllabApp

    app = DllabApp(lessons_dir=tmp_path / "nowhere", warm_torch=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, CatalogScreen)
        assert any("Broken lessons" in t for t in option_texts(app.screen))


def test_the_app_module_does_not_import_torch():
    """The catalog paints before torch loads: importing the app must not pull torch in."""
    code = ("import sys; import tui_lab.ui.app, tui_lab.ui.screens.catalog, tui_lab.ui.screens.train; "
            "print('torch' in sys.modules, 'tui_lab.training' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]

"""The app in two languages: the locale opens a Chinese catalog, F9 switches every screen live (catalog,
lesson, footer, help) and remembers the choice, `g` in a lesson opens the glossary with that lesson's
terms, F6 the whole glossary; Chinese text breaks between characters; snapshots in zh at 80x24 and 120x40."""

from __future__ import annotations

import pytest
import torch  # noqa: F401
from textual.widgets import DataTable, Markdown, Static
from textual.widgets._footer import FooterKey
from ui_support import make_app, sync, wait_until

from tui_lab.i18n import current_lang
from tui_lab.ui.screens.catalog import CatalogScreen
from tui_lab.ui.screens.glossary import GlossaryScreen
from tui_lab.ui.screens.help import HelpScreen
from tui_lab.ui.screens.lesson import LessonScreen

SIZES = [(80, 24), (120, 40)]


def _text(widget) -> str:
    return str(widget.render())


def _footer(screen) -> list[str]:
    return [key.description for key in screen.query(FooterKey)]


@sync
async def test_the_locale_opens_a_chinese_catalog(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert app.lang == "zh" and current_lang() == "zh"
        titles = [lesson.title for lesson in app.lessons]
        assert "手写数字上的 softmax 回归" in titles and "Multilayer perceptron" in titles  # one not translated
        assert "课程 已完成 0/3" in _text(app.screen.query_one("#catalog-title", Static))
        assert "打开" in _footer(app.screen)


@sync
async def test_f9_switches_live_and_is_remembered(tmp_path) -> None:
    app = make_app(tmp_path, lang="en")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press(*"convolution", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, LessonScreen))
        lesson_screen = app.screen
        assert "Slide, multiply, sum." in lesson_screen.query_one(Markdown).source
        await pilot.press("f9")
        await pilot.pause()
        assert app.lang == "zh" and app.store.get_setting("lang") == "zh"
        assert app.screen is lesson_screen  # the same screen, redrawn
        assert "互相关" in lesson_screen.query_one(Markdown).source
        assert "逐步理解卷积" in _text(lesson_screen.query_one("#lesson-title", Static))
        assert "工具：" in _text(lesson_screen.query_one("#lesson-tool", Static))
        assert "返回" in _footer(lesson_screen)
        await pilot.press("f1")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
        assert "按键" in _text(app.screen.query_one("#help-heading", Static))
        await pilot.press("f9")  # back to English, with the help open
        await pilot.pause()
        assert "Keys" in _text(app.screen.query_one("#help-heading", Static))
        await pilot.press("escape")
        await pilot.pause()
        assert "Slide, multiply, sum." in lesson_screen.query_one(Markdown).source
        assert "Back" in _footer(lesson_screen)
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, CatalogScreen))
        assert "lessons 0/3 done" in _text(app.screen.query_one("#catalog-title", Static))
    assert app.store_path is None
    from tui_lab.i18n import saved_lang

    assert saved_lang() == "en"


@sync
async def test_saved_setting_opens_the_app_in_its_language(tmp_path) -> None:
    from tui_lab.runs import RunStore

    store = RunStore()
    store.set_setting("lang", "zh")
    store.close()
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert app.lang == "zh"


@sync
async def test_g_in_a_lesson_opens_its_terms_and_enter_opens_a_terms_lesson(tmp_path) -> None:
    app = make_app(tmp_path, lang="zh")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press(*"卷积", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, LessonScreen))
        await pilot.press("g")
        await wait_until(pilot, lambda: isinstance(app.screen, GlossaryScreen))
        glossary = app.screen
        assert [t.zh for t in glossary.shown] == ["互相关"]  # taught here and used in the text
        assert "互相关" in _text(glossary.query_one("#glossary-detail", Static))
        await pilot.press("ctrl+a")  # every term
        assert len(glossary.shown) == 3 and glossary.query_one(DataTable).row_count == 3
        await pilot.press(*"entropy")
        assert [t.en for t in glossary.shown] == ["cross-entropy"]
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, LessonScreen) and app.screen.lesson.id == "softmax-digits")


@sync
async def test_f6_opens_the_glossary_anywhere(tmp_path) -> None:
    app = make_app(tmp_path, lang="en")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f6")
        await wait_until(pilot, lambda: isinstance(app.screen, GlossaryScreen))
        assert app.screen.lesson_id is None and len(app.screen.shown) == 3
        await pilot.press(*"nothing-like-this")
        assert "No term matches" in _text(app.screen.query_one("#glossary-detail", Static))
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, CatalogScreen))


def test_cjk_text_breaks_between_characters_and_english_as_before() -> None:
    from rich._wrap import divide_line
    from textual._wrap import compute_wrap_offsets

    from tui_lab.ui.cjk import enable_cjk_wrap, join_cjk_lines

    english = "It works much like a NumPy array, but it can live on a GPU — and record (its) ops…"
    before = (divide_line(english, 20), compute_wrap_offsets(english, 20, 4))
    assert enable_cjk_wrap(), "Textual or Rich changed their wrapping pattern: see tui_lab/ui/cjk.py"
    assert (divide_line(english, 20), compute_wrap_offsets(english, 20, 4)) == before
    chinese = "张量是 PyTorch 中的 n 维数组，它用起来和 NumPy 的数组很像，但它可以放在 GPU 上计算。"
    for offsets in (divide_line(chinese, 20), compute_wrap_offsets(chinese, 20, 4)):
        lines = [chinese[a:b] for a, b in zip([0, *offsets], [*offsets, len(chinese)])]
        from rich.cells import cell_len

        assert all(cell_len(line.rstrip()) <= 20 for line in lines)
        assert all(cell_len(line.rstrip()) >= 15 for line in lines[:-1]), lines  # filled, not ragged
        assert not any(line.startswith(("，", "。")) for line in lines)  # no line starts with a comma
    assert join_cjk_lines("甲乙\n丙。\nEnglish\ntext\n```\n注\n释\n```\n") == "甲乙丙。\nEnglish\ntext\n```\n注\n释\n```\n"


# ---- snapshots in Chinese ------------------------------------------------------------------------------


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_zh_catalog(snap_compare, tmp_path, size):
    assert snap_compare(make_app(tmp_path, lang="zh"), terminal_size=size)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_zh_lesson(snap_compare, tmp_path, size):
    """A train lesson in Chinese: its text wraps between characters; at 120x40 beside the train tool."""
    from tui_lab.ui.screens.train import TrainPanel

    async def open_lesson(pilot):
        await pilot.press(*"softmax", "enter")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, LessonScreen))
        await wait_until(pilot, lambda: pilot.app.screen.query_one(TrainPanel).ready)
        await pilot.pause()

    assert snap_compare(make_app(tmp_path, lang="zh"), run_before=open_lesson, terminal_size=size)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_zh_help(snap_compare, tmp_path, size):
    assert snap_compare(make_app(tmp_path, lang="zh"), press=["f1"], terminal_size=size)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_zh_glossary(snap_compare, tmp_path, size):
    assert snap_compare(make_app(tmp_path, lang="zh"), press=["f6"], terminal_size=size)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_en_glossary(snap_compare, tmp_path, size):
    assert snap_compare(make_app(tmp_path, lang="en"), press=["f6", "down"], terminal_size=size)

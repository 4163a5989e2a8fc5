"""The lesson screen's exercises: predict, Enter checks, Ctrl+T hint, Ctrl+G reveal, solved ones kept."""

from __future__ import annotations

from textual.widgets import Input, Static

from tests.ui_support import sync, wait_until
from tui_lab.ui.screens.lesson import LessonScreen
from tui_lab.ui.widgets.exercises import ExerciseBox, ExercisesPanel

LESSON = '''+++
id = "ex-lesson"
title = "Exercises"
section = "Convolutional networks"
order = 1
tool = "conv"
summary = "One line."
[preset]
preset = "corr2d"
[[exercises]]
prompt = "A 6x8 input, a 2x2 kernel: predict the output's shape."
kind = "text"
answer = "(5, 7)"
hint = "n - k + 1 along each axis."
explain = "6 - 2 + 1 = 5 and 8 - 2 + 1 = 7."
check = "print((5, 7))"
[[exercises]]
prompt = "Which optimizer wins the race?"
kind = "choice"
choices = ["SGD", "Momentum", "Adam"]
answer = "Momentum"
hint = "Velocity."
explain = "It keeps going."
check = "print('Momentum')"
+++
# Text

Some prose.
'''


def make_app(tmp_path):
    from tui_lab.ui.app import DllabApp

    (tmp_path / "lessons").mkdir()
    (tmp_path / "lessons" / "01-ex.md").write_text(LESSON)
    return DllabApp(lessons_dir=tmp_path / "lessons", warm_torch=False)


def feedback(app, n: int) -> str:
    return str(app.screen.query_one(f"#ex-feedback-{n}", Static).render())


@sync
async def test_predict_check_hint_reveal_and_the_solved_ones_are_kept(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        app.open_lesson("ex-lesson")
        await wait_until(pilot, lambda: isinstance(app.screen, LessonScreen))
        await pilot.pause()
        assert "0/2 solved" in str(app.screen.query_one("#ex-heading", Static).render())
        await pilot.press("e")  # jump to the first unsolved exercise
        assert app.focused is app.screen.query_one("#ex-input-1", Input)
        await pilot.press(*"5x8", "enter")
        assert "not quite" in feedback(app, 1)
        assert app.store.solved_exercises("ex-lesson") == set()
        await pilot.press("ctrl+t")
        assert "Hint: n - k + 1" in feedback(app, 1)
        await pilot.press("ctrl+g")
        assert "Answer: (5, 7)" in feedback(app, 1)
        await pilot.press("ctrl+u", *"5 x 7", "enter")  # another way to write the shape
        assert "right" in feedback(app, 1)
        assert app.store.solved_exercises("ex-lesson") == {1}
        assert "1/2 solved" in str(app.screen.query_one("#ex-heading", Static).render())
        await pilot.press("tab")
        assert app.focused is app.screen.query_one("#ex-input-2", Input)
        await pilot.press(*"Nadam", "enter")
        assert "pick one of: SGD, Momentum, Adam" in feedback(app, 2)
        await pilot.press("ctrl+u", "3", "enter")
        assert "not quite" in feedback(app, 2)
        await pilot.press("ctrl+u", "2", "enter")  # a choice by its number
        assert "right" in feedback(app, 2)
        assert app.store.solved_exercises("ex-lesson") == {1, 2}
        await pilot.press("escape")  # leaves the input's screen (back)
        await pilot.pause()
        app.open_lesson("ex-lesson")
        await wait_until(pilot, lambda: isinstance(app.screen, LessonScreen))
        await pilot.pause()
        boxes = list(app.screen.query(ExerciseBox))
        assert [b.has_class("-solved") for b in boxes] == [True, True]
        assert "2/2 solved" in str(app.screen.query_one(ExercisesPanel).query_one("#ex-heading", Static).render())


@sync
async def test_a_lesson_naming_code_never_opens_and_runs_nothing(tmp_path, monkeypatch):
    from tui_lab.ui.app import DllabApp

    marker = tmp_path / "marker"
    (tmp_path / "evilmod.py").write_text(f"open({str(marker)!r}, 'w').write('ran')\nbuild = None\n")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "lessons").mkdir()
    (tmp_path / "lessons" / "01-evil.md").write_text(
        LESSON.replace('tool = "conv"', 'tool = "shapes"').replace('preset = "corr2d"', 'model = "evilmod:build"'))
    (tmp_path / "lessons" / "02-ok.md").write_text(
        LESSON.replace("ex-lesson", "ok").replace('tool = "conv"', 'tool = "shapes"').replace(
            'preset = "corr2d"', 'model = "lenet"'))
    app = DllabApp(lessons_dir=tmp_path / "lessons", warm_torch=False)
    assert [lesson.id for lesson in app.lessons] == ["ok"]
    assert any("preset.model" in str(e) and "module:callable" in str(e) for e in app.lesson_errors)
    async with app.run_test(size=(80, 24)) as pilot:
        app.open_lesson("ok")
        await wait_until(pilot, lambda: isinstance(app.screen, LessonScreen))
        await pilot.press("o")  # open its shapes tool from a directory holding evilmod.py
        await pilot.pause(0.5)
    assert not marker.exists()

"""Lessons: every file loads, every cell runs and prints what it promises, the curriculum is covered,
the seeds' values are reproduced, and malformed files become errors naming the file and the field."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tui_lab.lessons import (
    TOOLS,
    Cell,
    CellFailure,
    Lesson,
    LessonError,
    check_lesson,
    lessons_dir,
    load_lessons,
    parse_cells,
    run_cell,
)

REPO = Path(__file__).resolve().parent.parent
LESSONS, ERRORS = load_lessons()
BY_ID = {lesson.id: lesson for lesson in LESSONS}

# CURRICULUM.md row -> (lesson ids, the tools the row names)
CURRICULUM = {
    1: (["intro-neurons"], {"playground"}),
    2: (["activation-functions"], {"playground", "train"}),
    3: (["tensor-creation"], {"snippets"}),
    4: (["tensor-operations"], {"snippets"}),
    5: (["broadcasting-memory"], {"snippets"}),
    6: (["autograd"], {"snippets"}),
    7: (["linear-regression"], {"train"}),
    8: (["logistic-regression"], {"snippets", "train"}),
    9: (["softmax-regression"], {"train"}),
    10: (["mlp"], {"train", "playground"}),
    11: (["model-selection"], {"train"}),
    12: (["layers-and-blocks"], {"snippets", "shapes"}),
    13: (["data-pipeline"], {"snippets"}),
    14: (["conv-corr2d"], {"conv"}),
    15: (["conv-padding-stride"], {"conv"}),
    16: (["conv-channels"], {"conv"}),
    17: (["pooling"], {"pool"}),
    18: (["receptive-field"], {"conv", "shapes"}),
    19: (["upsampling"], {"transposed"}),
    20: (["lenet"], {"shapes", "train"}),
    21: (["alexnet-vgg-nin", "googlenet-inception", "resnet-batchnorm"], {"shapes", "train"}),
    22: (["encoder-decoder"], {"shapes"}),
    23: (["optimizers", "optimizer-race"], {"landscape", "compare"}),
    24: (["loss-functions"], {"snippets"}),
    25: (["rnn-lstm"], {"train"}),
    26: (["transfer-learning"], {"train"}),
    27: (["gpus"], {"devices", "train"}),
}

# The preset keys each tool understands (the contract shared with the tools' authors).
PRESET_KEYS = {
    "train": {"model", "dataset", "optimizer", "lr", "epochs", "batch_size"},
    "conv": {"preset"},
    "pool": {"preset"},
    "transposed": {"preset"},
    "shapes": {"model", "dataset", "input", "depth", "compare"},
    "compare": {"model", "dataset", "optimizers", "lr", "epochs"},
    "landscape": {"function", "optimizers", "lr", "steps"},
    "playground": {"dataset", "hidden", "activation", "lr", "optimizer", "steps", "batch_size", "seed",
                   "noise", "ratio", "regularization", "reg_rate", "features"},
    "snippets": {"lesson"},
    "devices": set(),
    "features": {"run", "sample"},
    "gan": {"data", "steps", "lr_g", "lr_d", "seed", "batch_size", "g_hidden", "d_hidden", "d_steps", "loss",
            "optimizer", "noise_dim"},
    "attention": {"run", "sample"},
    "latent": {"run", "sample", "model", "dataset", "optimizer", "lr", "epochs", "batch_size", "seed", "hidden",
               "latent", "activation"},
}
CONV_PRESETS = {"corr2d", "padding", "stride", "sobel", "multichannel", "1x1", "maxpool", "avgpool", "transposed"}


# ------------------------------------------------------------------------------ the real lessons


def test_every_lesson_loads_without_errors():
    assert ERRORS == []
    assert len(LESSONS) >= 27
    assert len(BY_ID) == len(LESSONS)
    orders = [lesson.order for lesson in LESSONS]
    assert orders == sorted(orders) and len(set(orders)) == len(orders)
    for lesson in LESSONS:
        assert isinstance(lesson, Lesson)
        assert lesson.tool in TOOLS
        assert lesson.title and lesson.section and lesson.summary and lesson.body.strip()
        assert lesson.path.parent == lessons_dir()


def test_tools_match_the_app_registry():
    from tui_lab.ui.tools import TOOL_SCREENS

    assert set(TOOLS) == set(TOOL_SCREENS)


def test_presets_follow_each_tools_contract():
    for lesson in LESSONS:
        assert set(lesson.preset) <= PRESET_KEYS[lesson.tool], (lesson.id, lesson.preset)
        if lesson.tool in ("conv", "pool", "transposed"):
            assert lesson.preset["preset"] in CONV_PRESETS, lesson.id
        if lesson.tool == "snippets":
            assert lesson.preset.get("lesson", lesson.id) == lesson.id
        for key in ("optimizers", "lr"):
            if lesson.tool in ("compare", "landscape"):
                assert len(lesson.preset[key]) == len(lesson.preset["optimizers"]), lesson.id


def test_every_curriculum_row_is_covered():
    for row, (ids, tools) in CURRICULUM.items():
        for lesson_id in ids:
            assert lesson_id in BY_ID, f"curriculum row {row}: no lesson {lesson_id!r}"
        assert {BY_ID[i].tool for i in ids} <= tools, f"row {row} opens a tool it does not name"
    sections = {lesson.section for lesson in LESSONS}
    assert {"Introduction", "Tensors and autograd", "Convolutional networks", "Optimization"} <= sections


def test_every_lesson_has_checked_cells():
    for lesson in LESSONS:
        assert any(cell.checked for cell in lesson.cells), lesson.id


@pytest.mark.parametrize("lesson", LESSONS, ids=[lesson.id for lesson in LESSONS])
def test_every_cell_prints_its_expected_output(lesson):
    failures = check_lesson(lesson)
    assert failures == [], "\n".join(str(f) for f in failures)


# The values CURRICULUM.md lists under "Values printed in the seeds": (lesson, text the run prints).
SEED_VALUES = [
    ("conv-corr2d", "tensor([[19., 25.],\n        [37., 43.]])"),
    ("conv-padding-stride", "torch.Size([5, 5])\ntorch.Size([4, 4])"),
    ("conv-padding-stride", "[ 6.,  7.,  8.,  0.]])\n0.0"),
    ("conv-padding-stride", "tensor([[0., 8.],\n        [6., 8.]])\n8.0 6.0"),
    ("autograd", "tensor(28., grad_fn=<MulBackward0>)\ntensor([ 0.,  4.,  8., 12.])"),
    ("autograd", "tensor(20.)"),
    ("googlenet-inception", "Inception 0.16 M parameters  128 M FLOPs"),
    ("googlenet-inception", "3x3       0.44 M parameters  346 M FLOPs"),
    ("googlenet-inception", "5x5       1.22 M parameters  963 M FLOPs"),
    ("conv-channels", f"{5 * 5 * 128 * 256} {5 * 5 * 128 * 256}\n"
                      f"{1 * 1 * 128 * 32 + 5 * 5 * 32 * 256} {1 * 1 * 128 * 32 + 5 * 5 * 32 * 256}\n3.92"),
    ("conv-corr2d", "1e+08 1e+06 100\nTrue 100"),
    ("tensor-operations", textwrap.dedent("""\
        tensor([[1, 0, 0, 0, 0],
                [0, 0, 1, 0, 0],
                [0, 1, 0, 0, 0],
                [0, 0, 0, 0, 1],
                [0, 1, 0, 0, 0],
                [0, 0, 0, 1, 0]])""")),
]


@pytest.mark.parametrize("lesson_id, text", SEED_VALUES)
def test_seed_values_are_reproduced_by_a_checked_cell(lesson_id, text):
    cells = [cell for cell in BY_ID[lesson_id].cells if cell.checked and text in cell.expected]
    assert cells, f"no checked cell of {lesson_id} promises {text!r}"
    result = run_cell(cells[0].code)
    assert result.error is None and text in result.output


def test_seed_values_against_torch_itself():
    import torch
    import torch.nn.functional as F

    X = torch.arange(9.0).reshape(1, 1, 3, 3)
    K = torch.tensor([[0.0, 1.0], [2.0, 3.0]]).reshape(1, 1, 2, 2)
    assert F.conv2d(X, K)[0, 0].tolist() == [[19, 25], [37, 43]]
    padded = F.conv2d(X, K, padding=1)
    assert padded.shape[-2:] == (4, 4) and padded[0, 0, 0, 0] == 0
    strided = F.conv2d(X, K, padding=1, stride=(3, 2))[0, 0]
    assert strided[0, 1] == 8 and strided[1, 0] == 6
    x = torch.arange(4.0, requires_grad=True)
    y = 2 * torch.dot(x, x)
    y.backward()
    assert y.item() == 28 and x.grad.tolist() == [0, 4, 8, 12]
    assert F.one_hot(torch.tensor([0, 2, 1, 4, 1, 3]), 5).argmax(dim=1).tolist() == [0, 2, 1, 4, 1, 3]
    assert 5 * 5 * 128 * 256 / (128 * 32 + 5 * 5 * 32 * 256) == pytest.approx(3.92, abs=0.01)


def test_lessons_dir_is_the_checkout_folder():
    assert lessons_dir() == REPO / "lessons"


def test_lessons_dir_in_an_installed_wheel(tmp_path, monkeypatch):
    import tui_lab.lessons as module

    package = tmp_path / "site-packages" / "tui_lab"
    (package / "_lessons").mkdir(parents=True)
    monkeypatch.setattr(module, "__file__", str(package / "lessons.py"))
    assert lessons_dir() == package / "_lessons"


def test_core_does_not_import_the_ui():
    code = "import sys, tui_lab.lessons; assert not any(m.startswith(('textual', 'tui_lab.ui')) for m in sys.modules)"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_loading_never_runs_code(tmp_path):
    marker = tmp_path / "ran"
    write(tmp_path, "a.md", LESSON.format(id="a", tool="snippets", extra="") + CELL.format(
        code=f"open({str(marker)!r}, 'w').write('x')", output="x"))
    lessons, errors = load_lessons(tmp_path)
    assert len(lessons) == 1 and not errors and not marker.exists()


# ------------------------------------------------------------------------------ malformed files

LESSON = """+++
id = "{id}"
title = "A title"
section = "A section"
order = 1
tool = "{tool}"
summary = "One line."
{extra}
+++
Body text.
"""
CELL = "\n```python\n{code}\n```\n```output\n{output}\n```\n"


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def only_error(directory: Path) -> LessonError:
    lessons, errors = load_lessons(directory)
    assert len(errors) == 1, errors
    return errors[0]


@pytest.mark.parametrize(
    "text, field",
    [
        ("no front matter at all\n", "front matter"),
        ("+++\nid = \"x\"\n", "front matter"),  # never closed
        ("+++\nid = \"x\ntitle = \n+++\nbody\n", "front matter"),  # bad TOML
        (LESSON.format(id="x", tool="conv", extra="").replace('title = "A title"\n', ""), "title"),
        (LESSON.format(id="x", tool="conv", extra="").replace("order = 1\n", ""), "order"),
        (LESSON.format(id="x", tool="conv", extra="").replace("order = 1", 'order = "first"'), "order"),
        (LESSON.format(id="x", tool="conv", extra="").replace('summary = "One line."', "summary = 3"), "summary"),
        (LESSON.format(id="x", tool="microscope", extra=""), "tool"),
        (LESSON.format(id="x", tool="conv", extra='preset = "corr2d"'), "preset"),
        (LESSON.format(id="Not An Id", tool="conv", extra=""), "id"),
    ],
)
def test_malformed_lesson_names_file_and_field(tmp_path, text, field):
    write(tmp_path, "good.md", LESSON.format(id="good", tool="conv", extra='[preset]\npreset = "corr2d"'))
    path = write(tmp_path, "broken.md", text)
    lessons, errors = load_lessons(tmp_path)
    assert [lesson.id for lesson in lessons] == ["good"]  # the good one still loads
    assert len(errors) == 1
    error = errors[0]
    assert error.path == path and error.field == field
    line = str(error)
    assert "\n" not in line and line.startswith(f"{path}: {field}: ")


def test_unknown_tool_error_lists_the_allowed_tools(tmp_path):
    write(tmp_path, "a.md", LESSON.format(id="a", tool="microscope", extra=""))
    error = only_error(tmp_path)
    assert "microscope" in error.message and all(tool in error.message for tool in TOOLS)


def test_duplicate_id_is_an_error_naming_both_files(tmp_path):
    write(tmp_path, "a.md", LESSON.format(id="same", tool="conv", extra=""))
    second = write(tmp_path, "b.md", LESSON.format(id="same", tool="train", extra=""))
    lessons, errors = load_lessons(tmp_path)
    assert len(lessons) == 1 and lessons[0].path.name == "a.md"
    assert len(errors) == 1 and errors[0].path == second and errors[0].field == "id"
    assert "a.md" in errors[0].message


def test_missing_directory_is_an_error_not_an_exception(tmp_path):
    lessons, errors = load_lessons(tmp_path / "nowhere")
    assert lessons == [] and errors[0].field == "directory"


def test_preset_is_optional_and_kept_as_a_dict(tmp_path):
    write(tmp_path, "a.md", LESSON.format(id="a", tool="devices", extra=""))
    write(tmp_path, "b.md", LESSON.format(id="b", tool="train", extra='[preset]\nlr = 0.5\nmodel = "mlp"'))
    lessons, errors = load_lessons(tmp_path)
    assert not errors
    assert [lesson.preset for lesson in lessons] == [{}, {"lr": 0.5, "model": "mlp"}]


# ------------------------------------------------------------------------------ cells


def test_parse_cells_pairs_python_with_the_output_right_after_it():
    body = textwrap.dedent("""\
        Text.
        ```python
        print(1)
        ```

        ```output
        1
        ```
        ```python
        x = 2
        ```
        Some words in between.
        ```output
        not this cell's
        ```
        ```bash
        echo hi
        ```
        ```text
        plain
        ```
        """)
    cells = parse_cells(body)
    assert cells == (Cell("print(1)", "1"), Cell("x = 2", None))
    assert cells[0].checked and not cells[1].checked


def test_parse_cells_handles_indented_and_tilde_fences():
    body = "1. A step:\n\n   ```python\n   if True:\n       print(3)\n   ```\n   ```output\n   3\n   ```\n"
    body += "~~~python\nprint(4)\n~~~\n~~~output\n4\n~~~\n"
    assert parse_cells(body) == (Cell("if True:\n    print(3)", "3"), Cell("print(4)", "4"))
    assert run_cell(parse_cells(body)[0].code).output == "3\n"


def test_run_cell_captures_prints_and_a_final_expression():
    result = run_cell("x = 3\nprint('x is', x)\nx * 2")
    assert result.error is None and result.output == "x is 3\n6\n"
    assert run_cell("y = None\ny").output == ""


def test_run_cell_error_is_one_line_with_the_line_number():
    result = run_cell("print('before')\n1 / 0")
    assert result.output == "before\n"
    assert result.error == "ZeroDivisionError: division by zero (line 2)"
    syntax = run_cell("def f(:\n  pass")
    assert syntax.error.startswith("SyntaxError:") and "(line 1)" in syntax.error and "\n" not in syntax.error


def test_each_run_is_a_fresh_namespace_unless_one_is_given():
    assert run_cell("secret = 41").error is None
    assert run_cell("print(secret)").error.startswith("NameError")
    shared: dict = {}
    run_cell("secret = 41", shared)
    assert run_cell("print(secret + 1)", shared).output == "42\n"


def test_functions_defined_in_a_cell_print_into_the_cell():
    assert run_cell("def show():\n    print('inside')\nshow()").output == "inside\n"


def test_run_cell_times_out():
    result = run_cell("import time\nprint('start')\ntime.sleep(3)", timeout=0.2)
    assert result.output == "start\n"
    assert result.error.startswith("TimeoutError")


def test_check_lesson_reports_a_mismatch_on_one_line(tmp_path):
    text = LESSON.format(id="a", tool="snippets", extra="")
    text += CELL.format(code="print(1 + 1)", output="2")
    text += CELL.format(code="print('a')\nprint('b')", output="a\nc")
    text += CELL.format(code="raise ValueError('boom')", output="")
    text += "\n```python\nprint('unchecked but must run')\n```\n"
    write(tmp_path, "a.md", text)
    (lesson,), _ = load_lessons(tmp_path)
    failures = check_lesson(lesson)
    assert [f.index for f in failures] == [2, 3]
    assert all(isinstance(f, CellFailure) for f in failures)
    assert str(failures[0]) == f"{lesson.path}: cell 2: output line 2: expected 'c', got 'b'"
    assert str(failures[1]) == f"{lesson.path}: cell 3: raised ValueError: boom (line 1)"


def test_output_comparison_ignores_surrounding_whitespace_only():
    result = run_cell("print()\nprint('  a  b')\nprint()")
    assert result.matches("a  b") and result.matches("\n  a  b  \n")
    assert not result.matches("a b")


def test_every_shapes_preset_traces_without_error():
    """A lesson's shapes preset names models the tracer knows, and they trace cleanly."""
    from tui_lab.shapes import trace

    for lesson in LESSONS:
        if lesson.tool != "shapes":
            continue
        for spec in [lesson.preset["model"], *lesson.preset.get("compare", [])]:
            result = trace(spec, lesson.preset.get("input"), lesson.preset.get("dataset", "digits"))
            assert result.error is None, (lesson.id, spec, result.error)


def test_every_playground_preset_is_valid():
    from tui_lab.playground import config_from_preset

    for lesson in LESSONS:
        if lesson.tool == "playground":
            config_from_preset(lesson.preset)


# ------------------------------------------------------------------------------ exercises

EXERCISE = '''
[[exercises]]
prompt = "A 6x8 input, a 2x2 kernel: predict the output's shape."
kind = "text"
answer = "(5, 7)"
hint = "n - k + 1 along each axis."
explain = "6 - 2 + 1 = 5 and 8 - 2 + 1 = 7."
check = """
import torch
import torch.nn.functional as F
print(tuple(F.conv2d(torch.zeros(1, 1, 6, 8), torch.zeros(1, 1, 2, 2)).shape[2:]))
"""
'''


def exercise_lesson(body: str) -> str:
    return LESSON.format(id="ex", tool="snippets", extra='[preset]\nlesson = "ex"\n' + body)


def test_exercises_parse_into_frozen_dataclasses(tmp_path):
    extra = EXERCISE + '''
[[exercises]]
prompt = "Which wins?"
kind = "choice"
choices = ["SGD", "Adam"]
answer = "adam"
hint = "h"
explain = "e"
check = "print('Adam')"

[[exercises]]
prompt = "ln 10?"
kind = "number"
answer = 2.302585
tolerance = 0.001
hint = "h"
explain = "e"
check = "import math; print(math.log(10))"
'''
    write(tmp_path, "a.md", exercise_lesson(extra))
    (lesson,), errors = load_lessons(tmp_path)
    assert not errors
    first, choice, number = lesson.exercises
    assert (first.number, first.kind, first.answer, first.choices) == (1, "text", "(5, 7)", ())
    assert choice.choices == ("SGD", "Adam") and number.answer == "2.302585" and number.tolerance == 0.001
    with pytest.raises(AttributeError):
        first.answer = "x"  # frozen
    assert check_lesson(lesson) == []  # every check prints what its answer says


@pytest.mark.parametrize(
    "change, field",
    [
        (('kind = "text"', 'kind = "essay"'), "exercises[1].kind"),
        (('kind = "text"\n', ""), "exercises[1].kind"),
        (('hint = "n - k + 1 along each axis."\n', ""), "exercises[1].hint"),
        (('check = """', 'chek = """'), "exercises[1].chek"),
        (('answer = "(5, 7)"', 'answer = ""'), "exercises[1].answer"),
        (('kind = "text"', 'kind = "number"'), "exercises[1].answer"),
        (('kind = "text"', 'kind = "choice"\nchoices = ["(5, 7)"]'), "exercises[1].choices"),
        (('kind = "text"', 'kind = "choice"\nchoices = ["a", "b"]'), "exercises[1].answer"),
        (('kind = "text"', 'kind = "text"\nchoices = ["a", "b"]'), "exercises[1].choices"),
        (('kind = "text"', 'kind = "text"\ntolerance = -1'), "exercises[1].tolerance"),
        (('prompt = "A 6x8 input, a 2x2 kernel: predict the output\'s shape."', "prompt = 3"), "exercises[1].prompt"),
    ],
)
def test_malformed_exercise_names_file_and_field(tmp_path, change, field):
    old, new = change
    assert old in EXERCISE
    path = write(tmp_path, "a.md", exercise_lesson(EXERCISE.replace(old, new, 1)))
    error = only_error(tmp_path)
    assert (error.path, error.field) == (path, field), str(error)
    assert "\n" not in str(error)


def test_exercises_must_be_an_array_of_tables(tmp_path):
    write(tmp_path, "a.md", LESSON.format(id="ex", tool="snippets", extra='exercises = ["predict"]\n'))
    assert only_error(tmp_path).field == "exercises"


def test_an_exercise_whose_check_disagrees_with_its_answer_fails(tmp_path):
    write(tmp_path, "a.md", exercise_lesson(EXERCISE.replace('answer = "(5, 7)"', 'answer = "(5, 8)"')))
    (lesson,), _ = load_lessons(tmp_path)
    (failure,) = check_lesson(lesson)
    assert str(failure) == f"{lesson.path}: exercise 1: answer is '(5, 8)' but the check printed '(5, 7)'"
    write(tmp_path, "a.md", exercise_lesson(EXERCISE.replace("print(tuple(", "print(1/0, tuple(")))
    (lesson,), _ = load_lessons(tmp_path)
    (failure,) = check_lesson(lesson)
    assert "exercise 1: check raised ZeroDivisionError" in str(failure)


def ex(kind: str, answer: str, choices=(), tolerance=None):
    from tui_lab.lessons import Exercise

    return Exercise(1, "p", kind, answer, "h", "e", "print()", tolerance, tuple(choices))


@pytest.mark.parametrize(
    "exercise, typed, correct",
    [
        (ex("text", "(5, 7)"), "(5, 7)", True),
        (ex("text", "(5, 7)"), "5x7", True),
        (ex("text", "(5, 7)"), " 5 x 7 ", True),
        (ex("text", "(5, 7)"), "torch.Size([5, 7])", True),
        (ex("text", "(5, 7)"), "[5,7]", True),
        (ex("text", "(5, 7)"), "(7, 5)", False),
        (ex("text", "(5, 7)"), "(5, 7, 1)", False),
        (ex("text", "(1, 6, 28, 28)"), "1x6x28x28", True),
        (ex("text", "True"), "true", True),
        (ex("text", "max pooling"), "  Max   Pooling ", True),
        (ex("text", "0.5"), "0.50", True),
        (ex("text", "0.5"), ".5", True),
        (ex("text", "0.5"), "0.51", False),
        (ex("number", "2.302585"), "2.302585", True),
        (ex("number", "2.302585"), "2.3", False),
        (ex("number", "2.302585", tolerance=0.01), "2.3", True),
        (ex("number", "0.25"), "1/4", True),
        (ex("number", "0.25"), "25%", True),
        (ex("number", "61706"), "61_706", True),
        (ex("number", "61706"), "61707", False),
        (ex("number", "1e-3"), "0.001", True),
        (ex("choice", "Adam", ["SGD", "Momentum", "Adam"]), "adam", True),
        (ex("choice", "Adam", ["SGD", "Momentum", "Adam"]), "3", True),
        (ex("choice", "Adam", ["SGD", "Momentum", "Adam"]), "1", False),
        (ex("choice", "Adam", ["SGD", "Momentum", "Adam"]), "sgd", False),
    ],
)
def test_judge_normalises_a_typed_answer(exercise, typed, correct):
    from tui_lab.lessons import judge

    verdict = judge(exercise, typed)
    assert verdict.understood and verdict.correct is correct, (typed, verdict)


@pytest.mark.parametrize(
    "exercise, typed",
    [(ex("number", "2"), "two"), (ex("number", "2"), ""), (ex("number", "2"), "nan"), (ex("number", "2"), "1/0"),
     (ex("choice", "A", ["A", "B"]), "C"), (ex("choice", "A", ["A", "B"]), "3"), (ex("text", "x"), "   ")],
)
def test_judge_says_when_it_cannot_read_an_answer(exercise, typed):
    from tui_lab.lessons import judge

    verdict = judge(exercise, typed)
    assert not verdict.correct and not verdict.understood and verdict.message


def test_every_lesson_has_two_exercises():
    short = [lesson.id for lesson in LESSONS if not 2 <= len(lesson.exercises) <= 4]
    assert short == [], f"lessons without 2 to 4 exercises: {short}"


def test_every_exercise_is_well_formed_and_its_answer_is_a_choice():
    for lesson in LESSONS:
        for exercise in lesson.exercises:
            if exercise.kind == "choice":
                assert exercise.answer in exercise.choices, (lesson.id, exercise.number)


# ------------------------------------------------------------------------------ targets and named presets

TRAIN = '[target]\nval_acc = 0.9\n[preset]\nmodel = "mlp"\ndataset = "digits"\nepochs = 3\n'


def test_target_and_named_presets_are_parsed(tmp_path):
    extra = TRAIN + ('[presets.too-few-steps]\nepochs = 1\nlr = 0.0001\nwhy = "Too few steps."\n'
                     '[presets.too-few-steps.expect]\nval_acc_below = 0.2\n')
    write(tmp_path, "a.md", LESSON.format(id="t", tool="train", extra=extra))
    (lesson,), errors = load_lessons(tmp_path)
    assert not errors
    assert lesson.target == {"val_acc": 0.9}
    named = lesson.presets["too-few-steps"]
    assert named.why == "Too few steps." and named.expect == {"val_acc_below": 0.2}
    # laid over [preset]: only what differs is written
    assert named.values == {"model": "mlp", "dataset": "digits", "epochs": 1, "lr": 0.0001}
    assert lesson.preset_named(None) == lesson.preset == {"model": "mlp", "dataset": "digits", "epochs": 3}
    assert lesson.preset_named("too-few-steps") == named.values
    with pytest.raises(KeyError):
        lesson.preset_named("nope")


@pytest.mark.parametrize(
    "tool, extra, field",
    [
        ("train", TRAIN.replace("val_acc = 0.9", "val_acc = 90"), "target.val_acc"),
        ("train", TRAIN.replace("val_acc = 0.9", "accuracy = 0.9"), "target.accuracy"),
        ("train", TRAIN.replace("val_acc = 0.9", 'val_acc = "high"'), "target.val_acc"),
        ("train", TRAIN.replace("val_acc = 0.9", "loss_drop = -2"), "target.loss_drop"),
        ("conv", '[target]\nval_acc = 0.9\n[preset]\npreset = "corr2d"\n', "target"),
        ("train", TRAIN + '[presets.x]\nepochs = 1\n[presets.x.expect]\nval_acc_below = 0.2\n', "presets.x.why"),
        ("train", TRAIN + '[presets.x]\nepochs = 1\nwhy = "w"\n', "presets.x.expect"),
        ("train", TRAIN + '[presets.x]\nwhy = "w"\n[presets.x.expect]\nbest = 1\n', "presets.x.expect.best"),
        ("train", TRAIN + '[presets.Bad_Name]\nwhy = "w"\n', "presets.Bad_Name"),
        ("shapes", '[preset]\nmodel = "lenet"\n[presets.x]\nwhy = "w"\n[presets.x.expect]\nval_acc = 0.5\n',
         "presets.x.expect"),
    ],
)
def test_malformed_target_or_named_preset_names_the_field(tmp_path, tool, extra, field):
    path = write(tmp_path, "a.md", LESSON.format(id="t", tool=tool, extra=extra))
    error = only_error(tmp_path)
    assert (error.path, error.field) == (path, field), str(error)


# ------------------------------------------------------------------------------ lessons are data, not code


@pytest.mark.parametrize(
    "extra, field",
    [
        ('[preset]\nmodel = "evilmod:build"\n', "preset.model"),
        ('[preset]\nmodel = "lenet"\ncompare = ["fcn-demo", "evilmod:Net"]\n', "preset.compare"),
        ('[preset]\nmodel = "lenet"\n[presets.x]\nmodel = "os:getcwd"\nwhy = "w"\n', "presets.x.model"),
        ('[preset]\nmodel = "lenet"\ndataset = "evilmod:data"\n', "preset.dataset"),
        ('[preset]\nmodel = ["lenet"]\n', "preset.model"),
    ],
)
def test_a_preset_may_not_name_code(tmp_path, monkeypatch, extra, field):
    marker = tmp_path / "marker"
    (tmp_path / "evilmod.py").write_text(f"open({str(marker)!r}, 'w').write('ran')\nbuild = Net = data = None\n")
    monkeypatch.chdir(tmp_path)
    lessons_dir_ = tmp_path / "lessons"
    lessons_dir_.mkdir()
    path = write(lessons_dir_, "a.md", LESSON.format(id="evil", tool="shapes", extra=extra))
    error = only_error(lessons_dir_)
    assert (error.path, error.field) == (path, field)
    assert "\n" not in str(error) and ("module:callable" in error.message or "string" in error.message)
    assert not marker.exists()


def test_a_preset_may_name_a_torchvision_architecture(tmp_path):
    write(tmp_path, "a.md", LESSON.format(id="tv", tool="shapes", extra='[preset]\nmodel = "torchvision:resnet18"\n'))
    (lesson,), errors = load_lessons(tmp_path)
    assert not errors and lesson.preset["model"] == "torchvision:resnet18"


def test_no_real_preset_names_code():
    for lesson in LESSONS:
        for values in [lesson.preset, *(p.values for p in lesson.presets.values())]:
            for key in ("model", "compare", "dataset"):
                for value in values.get(key) if isinstance(values.get(key), list) else [values.get(key)]:
                    assert value is None or ":" not in value or value.startswith("torchvision:"), lesson.id


# ------------------------------------------------------------------------------ large files


def test_a_lesson_above_the_size_limit_is_refused_in_one_line(tmp_path):
    from tui_lab.lessons import MAX_LESSON_BYTES

    text = LESSON.format(id="big", tool="snippets", extra="") + "x" * MAX_LESSON_BYTES
    path = write(tmp_path, "big.md", text)
    error = only_error(tmp_path)
    assert (error.path, error.field) == (path, "file")
    assert "at most" in error.message and "\n" not in str(error)


def test_a_100_kb_lesson_still_loads(tmp_path):
    cells = "".join(CELL.format(code=f"print({n})", output=str(n)) for n in range(2500))
    text = LESSON.format(id="long", tool="snippets", extra="") + cells + "prose line\n" * 3000
    assert 100_000 < len(text.encode()) < 256 * 1024
    write(tmp_path, "long.md", text)
    (lesson,), errors = load_lessons(tmp_path)
    assert not errors and len(lesson.cells) == 2500


# ------------------------------------------------------------------------------ a cell cannot change the next


def test_set_default_dtype_in_one_cell_does_not_reach_the_next(tmp_path):
    write(tmp_path, "a.md", LESSON.format(id="a", tool="snippets", extra="")
          + CELL.format(code="import torch\ntorch.set_default_dtype(torch.float64)\nprint('set')", output="set")
          + CELL.format(code="import torch\nprint(torch.ones(1).dtype)", output="torch.float32"))
    (lesson,), _ = load_lessons(tmp_path)
    assert check_lesson(lesson) == []

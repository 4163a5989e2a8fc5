"""`dllab lessons [--json] [--check] [--dir D]` through typer's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from tui_lab.cli import app
from tui_lab.lessons import load_lessons

runner = CliRunner()

LESSON = """+++
id = "{id}"
title = "Title {id}"
section = "Section"
order = {order}
tool = "snippets"
summary = "One line."
[preset]
lesson = "{id}"
+++
Text.
"""
CELL = "\n```python\n{code}\n```\n```output\n{output}\n```\n"


def run(*args: str):
    return runner.invoke(app, ["lessons", *args])


def make_dir(tmp_path: Path, cells: dict[str, list[tuple[str, str]]]) -> Path:
    for order, (lesson_id, pairs) in enumerate(cells.items(), start=1):
        text = LESSON.format(id=lesson_id, order=order)
        text += "".join(CELL.format(code=code, output=output) for code, output in pairs)
        (tmp_path / f"{order:02d}-{lesson_id}.md").write_text(text, encoding="utf-8")
    return tmp_path


def test_json_lists_every_lesson_with_its_id_title_section_and_tool():
    result = run("--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data) == {"lessons", "errors"} and data["errors"] == []
    lessons, _ = load_lessons()
    assert [{k: e[k] for k in ("id", "title", "section", "tool")} for e in data["lessons"]] == [
        {"id": lesson.id, "title": lesson.title, "section": lesson.section, "tool": lesson.tool} for lesson in lessons
    ]
    assert len(data["lessons"]) >= 27
    keys = {"id", "title", "section", "tool", "exercises", "target", "presets", "lang"}
    assert all(set(entry) == keys for entry in data["lessons"])
    assert [len(e["exercises"]) for e in data["lessons"]] == [len(lesson.exercises) for lesson in lessons]
    assert data["lessons"][0]["id"] == "intro-neurons"


def test_table_lists_the_lessons():
    result = run()
    assert result.exit_code == 0, result.output
    assert "conv-corr2d" in result.stdout and "lessons" in result.stdout


def test_json_reports_broken_files_and_still_lists_the_rest(tmp_path):
    make_dir(tmp_path, {"good": [("print(1)", "1")]})
    (tmp_path / "zz-broken.md").write_text(LESSON.format(id="bad", order=9).replace('tool = "snippets"', 'tool = "oven"'))
    result = run("--json", "--dir", str(tmp_path))
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert [entry["id"] for entry in data["lessons"]] == ["good"]
    assert len(data["errors"]) == 1 and "zz-broken.md: tool: unknown tool 'oven'" in data["errors"][0]


def test_check_passes_on_good_lessons(tmp_path):
    make_dir(tmp_path, {"a": [("print(2 + 2)", "4")], "b": [("import torch\nprint(torch.arange(4.))", "tensor([0., 1., 2., 3.])")]})
    result = run("--check", "--dir", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "ok: ran 2 cells (2 checked) and 0 exercise checks in 2 lessons"


def test_check_fails_with_one_line_per_failure(tmp_path):
    make_dir(tmp_path, {
        "a": [("print(2 + 2)", "5"), ("print('fine')", "fine")],
        "b": [("1 / 0", "")],
    })
    (tmp_path / "zz-broken.md").write_text("+++\nid = \n+++\n")
    result = run("--check", "--dir", str(tmp_path))
    assert result.exit_code == 1
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 4
    assert lines[0].startswith(f"{tmp_path / 'zz-broken.md'}: front matter: invalid TOML")
    assert lines[1] == f"{tmp_path / '01-a.md'}: cell 1: output line 1: expected '5', got '4'"
    assert lines[2] == f"{tmp_path / '02-b.md'}: cell 1: raised ZeroDivisionError: division by zero (line 1)"
    assert lines[3] == "3 failed: ran 3 cells (3 checked) and 0 exercise checks in 2 lessons"


def test_check_json(tmp_path):
    make_dir(tmp_path, {"a": [("print(1)", "2")]})
    result = run("--check", "--json", "--dir", str(tmp_path))
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["ok"] is False and data["lessons"] == 1 and data["cells"] == 1 and data["checked_cells"] == 1
    assert data["failures"] == [f"{tmp_path / '01-a.md'}: cell 1: output line 1: expected '2', got '1'"]


def test_missing_dir_is_bad_input(tmp_path):
    result = run("--dir", str(tmp_path / "nowhere"))
    assert result.exit_code == 2
    assert "error: dir: no such folder" in result.output


def test_bad_timeout_is_bad_input():
    result = run("--check", "--timeout", "0")
    assert result.exit_code == 2
    assert "error: timeout:" in result.output


# ------------------------------------------------------------------------------ --check in processes of their own


import os  # noqa: E402

import pytest  # noqa: E402


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "-1", "0", "abc", "1e999"])
def test_timeout_must_be_positive_and_finite(value):
    result = run("--check", "--timeout", value)
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: timeout: must be a finite number of seconds > 0")


@pytest.mark.parametrize("value", ["0", "-1", "x", "1.5"])
def test_jobs_must_be_a_positive_whole_number(value):
    result = run("--check", "--jobs", value)
    assert result.exit_code == 2 and "error: jobs:" in result.output


def test_check_json_stays_pure_json_whatever_a_cell_prints(tmp_path):
    noisy = "import os, sys\nsys.stdout.write('noise\\n'); sys.stdout.flush()\nos.write(1, b'raw noise\\n')\nprint(1)"
    make_dir(tmp_path, {"a": [(noisy, "1")], "b": [("import sys; print('err', file=sys.stderr); print(2)", "2")]})
    result = run("--check", "--json", "--dir", str(tmp_path))
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)  # nothing before or after the JSON
    assert data["ok"] is True and data["lessons"] == 2 and data["failures"] == []


def test_a_lesson_that_exits_early_fails_and_the_rest_are_still_checked(tmp_path):
    make_dir(tmp_path, {"a": [("import os\nos._exit(0)", "never"), ("print(1)", "1")], "b": [("print(2)", "3")]})
    result = run("--check", "--json", "--dir", str(tmp_path))
    assert result.exit_code == 1
    failures = json.loads(result.stdout)["failures"]
    assert len(failures) == 2
    assert failures[0].startswith(f"{tmp_path / '01-a.md'}: its check ended in cell 1 without a result (exit code 0)")
    assert failures[1] == f"{tmp_path / '02-b.md'}: cell 1: output line 1: expected '3', got '2'"


def test_a_cell_holding_the_gil_is_killed_with_its_children(tmp_path):
    pidfile = tmp_path / "child.pid"
    code = (f"import subprocess\np = subprocess.Popen(['sleep', '300'])\nopen({str(pidfile)!r}, 'w').write(str(p.pid))\n"
            "sum(range(10**13))")
    lessons = tmp_path / "lessons"
    lessons.mkdir()
    make_dir(lessons, {"a": [(code, "never")], "b": [("print(2)", "2")]})
    result = run("--check", "--json", "--timeout", "2", "--dir", str(lessons))
    assert result.exit_code == 1
    (failure,) = json.loads(result.stdout)["failures"]
    assert failure == (f"{lessons / '01-a.md'}: cell 1: still running after 2 s; killed it and its child processes "
                       "(later cells were not run)")
    pid = int(pidfile.read_text())
    try:  # the grandchild is gone (or a zombie, reaped by init)
        os.kill(pid, 0)
        alive = os.path.exists(f"/proc/{pid}") and "Z" not in open(f"/proc/{pid}/stat").read().split()[2]
    except ProcessLookupError:
        alive = False
    assert not alive


def test_default_dtype_set_by_one_lesson_cannot_reach_another(tmp_path):
    make_dir(tmp_path, {
        "a": [("import torch\ntorch.set_default_dtype(torch.float64)\nimport builtins\nbuiltins.LEAK = 1\nprint('set')", "set")],
        "b": [("import torch, builtins\nprint(torch.ones(1).dtype, hasattr(builtins, 'LEAK'))", "torch.float32 False")],
    })
    result = run("--check", "--json", "--jobs", "1", "--dir", str(tmp_path))
    assert result.exit_code == 0, result.stdout


def test_check_runs_nothing_from_the_current_directory(tmp_path, monkeypatch):
    marker = tmp_path / "marker"
    work = tmp_path / "work"
    work.mkdir()
    (work / "torch.py").write_text(f"open({str(marker)!r}, 'w').write('ran')\n")
    (work / "tui_lab.py").write_text(f"open({str(marker)!r}, 'w').write('ran')\n")
    lessons = tmp_path / "lessons"
    lessons.mkdir()
    make_dir(lessons, {"a": [("import torch\nprint(torch.zeros(2).shape)", "torch.Size([2])")]})
    monkeypatch.chdir(work)
    result = run("--check", "--json", "--dir", str(lessons))
    assert result.exit_code == 0, result.stdout
    assert not marker.exists()


EXERCISES = '''
[[exercises]]
prompt = "Predict 2 + 2."
kind = "number"
answer = "{answer}"
hint = "Count."
explain = "Two and two."
check = "print(2 + 2)"
'''


def test_check_verifies_exercises_and_json_lists_them(tmp_path):
    text = LESSON.format(id="a", order=1).replace("+++\nText.", EXERCISES.format(answer="4") + "+++\nText.")
    (tmp_path / "01-a.md").write_text(text)
    listing = json.loads(run("--json", "--dir", str(tmp_path)).stdout)
    (exercise,) = listing["lessons"][0]["exercises"]
    assert {k: exercise[k] for k in ("prompt", "kind", "answer", "choices", "hint", "explain")} == {
        "prompt": "Predict 2 + 2.", "kind": "number", "answer": "4", "choices": [], "hint": "Count.",
        "explain": "Two and two."}
    result = run("--check", "--json", "--dir", str(tmp_path))
    assert result.exit_code == 0 and json.loads(result.stdout)["exercises"] == 1
    (tmp_path / "01-a.md").write_text(text.replace('answer = "4"', 'answer = "5"'))
    result = run("--check", "--json", "--dir", str(tmp_path))
    assert result.exit_code == 1
    assert json.loads(result.stdout)["failures"] == [
        f"{tmp_path / '01-a.md'}: exercise 1: answer is '5' but the check printed '4'"]

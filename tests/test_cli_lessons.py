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
    assert data["lessons"] == [
        {"id": l.id, "title": l.title, "section": l.section, "tool": l.tool} for l in lessons
    ]
    assert len(data["lessons"]) >= 27
    assert all(set(entry) == {"id", "title", "section", "tool"} for entry in data["lessons"])
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
    assert result.stdout.strip() == "ok: ran 2 cells (2 checked) in 2 lessons"


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
    assert lines[3] == "3 failed: ran 3 cells (3 checked) in 2 lessons"


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

"""The CLI in two languages: --lang on dllab and on every command, DLLAB_LANG, the saved setting and
the locale; `dllab lessons --lang zh --json` lists Chinese titles; `dllab glossary`."""

from __future__ import annotations

import json
import re

from typer.testing import CliRunner

from tui_lab.cli import app, command

runner = CliRunner()
CJK = re.compile(r"[\u4e00-\u9fff]")


def _json(args, env=None):
    result = runner.invoke(app, args, env=env)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_lessons_lang_zh_json_gives_chinese_titles() -> None:
    data = _json(["lessons", "--lang", "zh", "--json"])
    assert data["errors"] == []
    assert all(CJK.search(entry["title"]) and entry["lang"] == "zh" for entry in data["lessons"])
    english = _json(["lessons", "--json"])
    assert [e["id"] for e in english["lessons"]] == [e["id"] for e in data["lessons"]]
    assert not any(CJK.search(e["title"]) for e in english["lessons"])
    # the exercise answers are the English lesson's, the prompts translated
    zh_ex = [x for e in data["lessons"] for x in e["exercises"]]
    en_ex = [x for e in english["lessons"] for x in e["exercises"]]
    assert [x["answer"] for x in zh_ex] == [x["answer"] for x in en_ex]
    assert sum(bool(CJK.search(x["prompt"])) for x in zh_ex) == len(zh_ex)


def test_the_root_flag_env_and_locale_choose_the_language() -> None:
    assert _json(["--lang", "zh", "lessons", "--json"])["lessons"][0]["lang"] == "zh"
    assert _json(["lessons", "--json"], env={"DLLAB_LANG": "zh"})["lessons"][0]["lang"] == "zh"
    assert _json(["lessons", "--json"], env={"LANG": "zh_CN.UTF-8"})["lessons"][0]["lang"] == "zh"
    # the flag beats DLLAB_LANG, DLLAB_LANG beats the locale
    assert _json(["lessons", "--lang", "en", "--json"], env={"DLLAB_LANG": "zh"})["lessons"][0]["lang"] == "en"
    assert _json(["lessons", "--json"], env={"DLLAB_LANG": "en", "LANG": "zh_CN.UTF-8"})["lessons"][0]["lang"] == "en"


def test_the_saved_setting_is_used_after_the_environment(tmp_path) -> None:
    from tui_lab.runs import RunStore

    store = RunStore()  # DLLAB_HOME is the test's own
    store.set_setting("lang", "zh")
    store.close()
    assert _json(["lessons", "--json"])["lessons"][0]["lang"] == "zh"
    assert _json(["lessons", "--json"], env={"DLLAB_LANG": "en"})["lessons"][0]["lang"] == "en"


def test_a_bad_language_is_one_line_naming_the_field() -> None:
    cases = ((["lessons", "--lang", "fr"], None, "error: lang: must be one of en, zh, got 'fr'"),
             (["--lang", "x", "glossary"], None, "error: lang: must be one of en, zh, got 'x'"),
             (["glossary"], {"DLLAB_LANG": "de"}, "error: DLLAB_LANG: must be one of en, zh, got 'de'"))
    for args, env, line in cases:
        result = runner.invoke(app, args, env=env)
        assert result.exit_code == 2 and result.stderr.strip().splitlines() == [line], result.stderr


def test_errors_are_prefixed_in_chinese() -> None:
    result = runner.invoke(app, ["glossary", "--lang", "zh", "--lesson", "no-such-lesson"])
    assert result.exit_code == 2
    assert result.stderr.startswith("错误：lesson: no lesson 'no-such-lesson'")


def test_every_command_takes_lang() -> None:
    import typer

    def walk(cmd, path):
        names = {opt for p in cmd.params for opt in getattr(p, "opts", [])}
        assert "--lang" in names, f"{path} has no --lang"
        for name, sub in getattr(cmd, "commands", {}).items():
            walk(sub, f"{path} {name}")

    walk(typer.main.get_command(app), "dllab")


def test_help_is_translated() -> None:
    cmd = command(["lessons", "--lang", "zh", "--help"])
    assert cmd.commands["lessons"].help == "列出课程，或检查每个代码单元的输出是否仍与课程所写一致。"
    assert cmd.commands["glossary"].params[0].help == "只列出包含这些词的术语。"
    cmd = command(["--help"])
    assert cmd.commands["lessons"].help.startswith("List the lessons")


def test_glossary_json_lists_sixty_terms_with_their_lessons() -> None:
    data = _json(["glossary", "--json"])
    assert data["errors"] == [] and data["lang"] == "en"
    assert len(data["terms"]) >= 60
    ids = {e["id"] for e in _json(["lessons", "--json"])["lessons"]}
    for term in data["terms"]:
        assert set(term) == {"zh", "en", "definition", "definition_zh", "definition_en", "lesson", "lesson_title"}
        assert term["lesson"] in ids and term["definition"] == term["definition_en"]
    zh = _json(["glossary", "--json", "--lang", "zh"])
    assert all(t["definition"] == t["definition_zh"] and CJK.search(t["lesson_title"]) for t in zh["terms"])


def test_glossary_filters() -> None:
    terms = _json(["glossary", "互相关", "--json"])["terms"]
    assert terms and terms[0]["zh"].startswith("互相关") and terms[0]["en"] == "cross-correlation"
    assert _json(["glossary", "cross-correlation", "--json"])["terms"][0]["zh"].startswith("互相关")
    pooling = _json(["glossary", "--lesson", "pooling", "--json"])["terms"]
    assert pooling and all(t["lesson"] == "pooling" for t in pooling)
    table = runner.invoke(app, ["glossary", "stride", "--lang", "zh"])
    assert table.exit_code == 0 and "步幅" in table.stdout and "术语表" in table.stdout

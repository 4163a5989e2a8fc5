"""The interface strings go through gettext (tui_lab.i18n): every wrapped string, every help text of
the CLI and every key binding's description has a translation in the zh catalog; the language is
chosen flag > DLLAB_LANG > saved setting > locale > en; the .po compiles to the .mo GNU msgfmt writes."""

from __future__ import annotations

import ast
import gettext
import io
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tui_lab import i18n
from tui_lab.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "tui_lab"
PLACEHOLDER = re.compile(r"\{[^{}]*\}")


def wrapped_msgids() -> dict[str, str]:
    """msgid -> where, for every `_("...")` and `N_("...")` call with a literal string in tui_lab/."""
    found: dict[str, str] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("_", "N_")
                    and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
                found.setdefault(node.args[0].value, f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def cli_help_msgids() -> dict[str, str]:
    import typer

    from tui_lab.cli import app
    from tui_lab.commands._common import help_texts

    return {text: "dllab CLI help" for text in help_texts(typer.main.get_command(app))}


def binding_msgids() -> dict[str, str]:
    """Every key binding description of the app, its screens and the lesson tools' screens."""
    from textual.binding import Binding

    from tui_lab.ui.screens.help import SCREENS, tool_screens

    import importlib

    found: dict[str, str] = {}
    classes = [getattr(importlib.import_module(m), c) for _t, m, c in [*SCREENS, *tool_screens()]]
    from tui_lab.ui.screens.help import HelpScreen
    from tui_lab.ui.widgets.exercises import ExerciseBox

    for cls in [*classes, HelpScreen, ExerciseBox]:
        for b in cls.BINDINGS:
            binding = b if isinstance(b, Binding) else Binding(*b)
            if binding.description:
                found.setdefault(binding.description, f"{cls.__name__}.BINDINGS")
    return found


def all_msgids() -> dict[str, str]:
    return {**cli_help_msgids(), **binding_msgids(), **wrapped_msgids()}


def zh_catalog() -> dict[str, str]:
    return i18n.parse_po(i18n.po_path("zh").read_text(encoding="utf-8"))


def test_every_user_facing_string_is_in_the_zh_catalog() -> None:
    catalog = zh_catalog()
    missing = {msgid: where for msgid, where in all_msgids().items() if msgid not in catalog}
    assert not missing, "not in tui_lab/locale/zh/LC_MESSAGES/dllab.po:\n" + "\n".join(
        f"  {where}: {msgid!r}" for msgid, where in sorted(missing.items(), key=lambda kv: kv[1]))


def test_translations_keep_their_placeholders() -> None:
    for msgid, msgstr in zh_catalog().items():
        if msgid:
            assert sorted(PLACEHOLDER.findall(msgid)) == sorted(PLACEHOLDER.findall(msgstr)), msgid


def test_the_extractor_finds_wrapped_strings() -> None:
    # the test above can fail: a string of each kind is found
    ids = all_msgids()
    assert "Open tool" in ids and "Glossary" in ids  # N_ in BINDINGS
    assert "type to filter lessons…" in ids  # _() call
    assert "Only the terms taught in this lesson (its id)." in ids  # CLI option help
    assert "List the model zoo." in ids  # a command's docstring, not wrapped in the source


def test_compile_po_matches_gnu_msgfmt(tmp_path) -> None:
    po = i18n.po_path("zh")
    ours = gettext.GNUTranslations(io.BytesIO(i18n.compile_po(po.read_text(encoding="utf-8"))))
    catalog = zh_catalog()
    for msgid, msgstr in catalog.items():
        if msgid:
            assert ours.gettext(msgid) == msgstr
    msgfmt = shutil.which("msgfmt")
    if msgfmt is None:
        pytest.skip("GNU msgfmt is not installed: compared with the catalog only")
    out = tmp_path / "dllab.mo"
    subprocess.run([msgfmt, "--check-format", "-o", str(out), str(po)], check=True)
    theirs = gettext.GNUTranslations(out.open("rb"))
    for msgid in catalog:
        if msgid:
            assert theirs.gettext(msgid) == ours.gettext(msgid)


def test_parse_po_reads_escapes_multiline_and_skips_fuzzy() -> None:
    text = '''msgid ""
msgstr "Content-Type: text/plain; charset=UTF-8\\n"

msgid "a\\tb"
msgstr "甲\\t乙"

msgid ""
"two "
"lines"
msgstr "两"
"行"

#, fuzzy
msgid "guess"
msgstr "猜"

msgid "untranslated"
msgstr ""
'''
    entries = i18n.parse_po(text)
    assert entries["a\tb"] == "甲\t乙"
    assert entries["two lines"] == "两行"
    assert "guess" not in entries and "untranslated" not in entries
    with pytest.raises(ValueError, match="line 2"):
        i18n.parse_po('msgid "x"\nbogus')


def test_translate_and_current_language() -> None:
    assert i18n.current_lang() == "en"
    assert i18n._("Open tool") == "Open tool"
    i18n.set_lang("zh")
    assert i18n._("Open tool") == zh_catalog()["Open tool"]
    assert i18n._("a string nobody translated") == "a string nobody translated"
    assert i18n.translate("Open tool", "en") == "Open tool"


@pytest.mark.parametrize("flag, env, saved, expected", [
    ("zh", {"DLLAB_LANG": "en", "LANG": "en_US.UTF-8"}, "en", "zh"),  # the flag wins
    (None, {"DLLAB_LANG": "zh", "LANG": "en_US.UTF-8"}, "en", "zh"),  # then DLLAB_LANG
    (None, {"LANG": "en_US.UTF-8"}, "zh", "zh"),  # then the saved setting
    (None, {"LANG": "zh_CN.UTF-8"}, None, "zh"),  # then the locale
    (None, {"LANG": "zh_CN.UTF-8", "LC_ALL": "C"}, None, "en"),  # LC_ALL before LANG
    (None, {"LC_MESSAGES": "zh_TW.UTF-8", "LANG": "en_US"}, None, "zh"),  # LC_MESSAGES before LANG
    (None, {}, None, "en"),  # and English
    (None, {}, "klingon", "en"),  # a bad saved value is ignored
    ("ZH-cn", {}, None, "zh"),
])
def test_resolve_lang_precedence(flag, env, saved, expected) -> None:
    assert i18n.resolve_lang(flag, env, saved) == expected


def test_bad_flag_or_env_names_the_field() -> None:
    with pytest.raises(ConfigError, match=r"^lang: must be one of en, zh, got 'fr'$"):
        i18n.resolve_lang("fr", {})
    with pytest.raises(ConfigError, match=r"^DLLAB_LANG: must be one of en, zh"):
        i18n.resolve_lang(None, {"DLLAB_LANG": "de"})


def test_settings_are_saved_in_the_run_store(tmp_path) -> None:
    from tui_lab.runs import RunStore, read_setting

    path = tmp_path / "runs.sqlite3"
    assert read_setting("lang", path) is None and not path.exists()  # reading never creates the store
    store = RunStore(path)
    assert read_setting("lang", path) is None  # no settings table yet
    assert store.get_setting("lang") is None
    store.set_setting("lang", "zh")
    store.set_setting("lang", "en")
    assert store.get_setting("lang") == "en" and read_setting("lang", path) == "en"
    store.close()
    assert i18n.saved_lang(path) == "en"

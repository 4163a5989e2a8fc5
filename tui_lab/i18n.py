"""The lab's language: which one is in use, and its interface strings through gettext.

Languages: `LANGS` ("en", the source language of every string, and "zh"). Which one a process uses
is decided once, by `resolve_lang`, in this order of precedence:

    the --lang flag  >  DLLAB_LANG  >  the setting saved in the run store  >  the locale  >  en

(the locale: the first non-empty of LC_ALL, LC_MESSAGES, LANG; one starting with `zh` means zh).

Interface strings are written in English in the code and wrapped: `_("Open tool")` translates now;
`N_("Help")` only marks a string for the catalog, for text defined at import time (a binding's
description) that the face translates when it draws it, so a live language switch reaches it too.
The catalogs are gettext `.po` files kept in the repo, `tui_lab/locale/<lang>/LC_MESSAGES/dllab.po`;
adding a language is adding a catalog (and its name to `LANGS`). A `.po` is compiled to the `.mo`
format by `compile_po` (the stdlib has no msgfmt; this is the same format, tested against GNU msgfmt
where it is installed) on first use, in memory, and read with the stdlib's `gettext.GNUTranslations`;
a compiled `.mo` beside it (`python -m tui_lab.i18n compile`) is used instead when it is not older.
"""

from __future__ import annotations

import ast
import gettext
import io
import os
import struct
import sys
import threading
from pathlib import Path
from typing import Mapping

from tui_lab.errors import ConfigError

LANGS: tuple[str, ...] = ("en", "zh")
DEFAULT_LANG = "en"
DOMAIN = "dllab"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
SETTING_KEY = "lang"  # the run store's settings key that remembers the choice
LOCALE_VARS = ("LC_ALL", "LC_MESSAGES", "LANG")

_lock = threading.Lock()
_current = DEFAULT_LANG
_catalogs: dict[str, gettext.NullTranslations] = {}


# ---------------------------------------------------------------------------------------- which language


def parse_lang(text: str, field_name: str = "lang") -> str:
    """`zh`, `ZH`, `zh_CN`, `zh-CN.UTF-8` -> "zh"; ConfigError naming the field for anything else."""
    t = str(text).strip().lower()
    base = t.replace("-", "_").split(".")[0].split("_")[0].split("@")[0]
    if base not in LANGS:
        raise ConfigError(field_name, f"must be one of {', '.join(LANGS)}, got {str(text)[:40]!r}")
    return base


def locale_lang(environ: Mapping[str, str] | None = None) -> str | None:
    """The language the locale asks for: zh for a zh* locale, en for any other set locale, else None."""
    env = os.environ if environ is None else environ
    for var in LOCALE_VARS:
        value = env.get(var, "").strip()
        if value:
            return "zh" if value.lower().startswith("zh") else "en"
    return None


def resolve_lang(flag: str | None = None, environ: Mapping[str, str] | None = None,
                 saved: str | None = None) -> str:
    """The language to use: flag > DLLAB_LANG > saved setting > locale > en.

    A bad flag or DLLAB_LANG is a ConfigError naming it; a bad saved value (an older or edited store)
    is ignored, so the lab still opens.
    """
    env = os.environ if environ is None else environ
    if flag is not None and str(flag).strip():
        return parse_lang(flag, "lang")
    if env.get("DLLAB_LANG", "").strip():
        return parse_lang(env["DLLAB_LANG"], "DLLAB_LANG")
    if saved:
        try:
            return parse_lang(saved, "saved lang")
        except ConfigError:
            pass
    return locale_lang(env) or DEFAULT_LANG


def saved_lang(store_path: str | os.PathLike | None = None) -> str | None:
    """The language saved in the run store's settings, or None (no store yet: nothing is created)."""
    from tui_lab.runs import read_setting

    return read_setting(SETTING_KEY, store_path)


def set_lang(lang: str) -> str:
    """Use `lang` for every string translated from now on (the whole process); returns it."""
    global _current
    lang = parse_lang(lang)
    _current = lang
    return lang


def current_lang() -> str:
    return _current


# ---------------------------------------------------------------------------------------- translating


def _(message: str) -> str:
    """`message` in the current language (itself when there is no translation)."""
    if _current == DEFAULT_LANG or not message:
        return message
    return catalog(_current).gettext(message)


def N_(message: str) -> str:
    """Mark `message` for the catalog without translating it now (translate it where it is shown)."""
    return message


def translate(message: str, lang: str | None = None) -> str:
    """`message` in `lang` (default: the current language)."""
    lang = _current if lang is None else lang
    if lang == DEFAULT_LANG or not message:
        return message
    return catalog(lang).gettext(message)


def po_path(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def catalog(lang: str) -> gettext.NullTranslations:
    """The translations of `lang`, compiled from its `.po` on first use (a missing catalog: none)."""
    with _lock:
        found = _catalogs.get(lang)
        if found is None:
            found = _load_catalog(lang)
            _catalogs[lang] = found
        return found


def _load_catalog(lang: str) -> gettext.NullTranslations:
    po = po_path(lang)
    mo = po.with_suffix(".mo")
    try:
        if mo.exists() and (not po.exists() or mo.stat().st_mtime >= po.stat().st_mtime):
            with mo.open("rb") as fp:
                return gettext.GNUTranslations(fp)
        if po.exists():
            return gettext.GNUTranslations(io.BytesIO(compile_po(po.read_text(encoding="utf-8"))))
    except (OSError, ValueError, SyntaxError) as exc:  # a broken catalog: English, and say why once
        sys.stderr.write(f"dllab: the {lang} message catalog cannot be read ({exc}); using English\n")
    return gettext.NullTranslations()


def clear_cache() -> None:
    """Forget compiled catalogs (tests that edit a catalog)."""
    with _lock:
        _catalogs.clear()


# ---------------------------------------------------------------------------------------- .po -> .mo


def parse_po(text: str) -> dict[str, str]:
    """msgid -> msgstr of a `.po` file (the header under ""); fuzzy and untranslated entries are left out.

    Handles what this project's catalogs use: comments, `#, fuzzy`, `msgctxt`-free singular entries
    with multi-line strings and C escapes. Raises ValueError naming the line of a malformed entry.
    """
    entries: dict[str, str] = {}
    msgid: list[str] | None = None
    msgstr: list[str] | None = None
    current: list[str] | None = None
    fuzzy = False

    def flush() -> None:
        nonlocal msgid, msgstr, current, fuzzy
        if msgid is not None and msgstr is not None:
            key, value = "".join(msgid), "".join(msgstr)
            if value and (not fuzzy or key == ""):
                entries[key] = value
        msgid = msgstr = current = None
        fuzzy = False

    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            flush()
            continue
        if line.startswith("#"):
            if msgstr is not None:
                flush()
            if line.startswith("#,") and "fuzzy" in line:
                fuzzy = True
            continue
        keyword, _sep, rest = line.partition(" ")
        if keyword in ("msgid", "msgstr"):
            if keyword == "msgid" and msgstr is not None:
                flush()
            try:
                value = ast.literal_eval(rest.strip())
            except (ValueError, SyntaxError) as exc:
                raise ValueError(f"line {number}: bad string {rest.strip()[:40]!r}") from exc
            current = [value]
            if keyword == "msgid":
                msgid = current
            else:
                if msgid is None:
                    raise ValueError(f"line {number}: msgstr without a msgid")
                msgstr = current
        elif line.startswith('"') and current is not None:
            try:
                current.append(ast.literal_eval(line))
            except (ValueError, SyntaxError) as exc:
                raise ValueError(f"line {number}: bad string {line[:40]!r}") from exc
        else:
            raise ValueError(f"line {number}: cannot read {line[:40]!r} (this reader takes singular entries)")
    flush()
    return entries


def compile_po(text: str) -> bytes:
    """The GNU `.mo` bytes of a `.po` text (what `msgfmt` writes, without a hash table)."""
    entries = parse_po(text)
    keys = sorted(entries)
    ids = [k.encode("utf-8") for k in keys]
    strs = [entries[k].encode("utf-8") for k in keys]
    count = len(keys)
    header_size = 7 * 4
    ids_table = header_size
    strs_table = ids_table + count * 8
    data_start = strs_table + count * 8
    offsets: list[tuple[int, int]] = []
    blob = b""
    for b in ids:
        offsets.append((len(b), data_start + len(blob)))
        blob += b + b"\0"
    str_offsets: list[tuple[int, int]] = []
    for b in strs:
        str_offsets.append((len(b), data_start + len(blob)))
        blob += b + b"\0"
    out = struct.pack("<7I", 0x950412DE, 0, count, ids_table, strs_table, 0, data_start)
    out += b"".join(struct.pack("<2I", n, o) for n, o in offsets)
    out += b"".join(struct.pack("<2I", n, o) for n, o in str_offsets)
    return out + blob


def compile_all() -> list[Path]:
    """Write each catalog's `.mo` beside its `.po`; the files written."""
    written = []
    for po in sorted(LOCALE_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
        mo = po.with_suffix(".mo")
        mo.write_bytes(compile_po(po.read_text(encoding="utf-8")))
        written.append(mo)
    return written


if __name__ == "__main__":  # python -m tui_lab.i18n compile
    if sys.argv[1:] == ["compile"]:
        for path in compile_all():
            print(path)
    else:
        sys.stderr.write("usage: python -m tui_lab.i18n compile\n")
        raise SystemExit(2)

"""Line breaking for Chinese text: a line may break between any two CJK characters.

Textual wraps text at whitespace only (`textual._wrap.chunks` splits on `\\S+\\s*`), so a Chinese
paragraph, which has no spaces, breaks only where Latin words sit in it and lines come out ragged,
half empty. `enable_cjk_wrap()` makes every CJK character (with the closing punctuation after it,
which must not start a line) a chunk of its own, and leaves every other text as it was. It changes
Textual's private chunk pattern, so it checks the pattern first and does nothing when a Textual
release has changed it (tests/test_ui_i18n.py then fails, saying so).
"""

from __future__ import annotations

import re

_CJK = "\u2e80-\u2fff\u3040-\u30ff\u3100-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af"
# opening punctuation joins the character after it; closing punctuation stays with the one before
# (full-width forms only: English text, which has none of these, is chunked exactly as before)
_OPEN = "（《「『【〔"
_CLOSE = "，。、；：！？）》」』】〕"
CJK_CHUNK = re.compile(
    rf"[{_OPEN}]*[{_CJK}][{_CLOSE}]*\s*"  # one CJK character and the punctuation around it
    rf"|[{_OPEN}]*[^\s{_CJK}{_OPEN}{_CLOSE}]+[{_CLOSE}]*\s*"  # a Latin word (and its spaces), as before
    rf"|[{_OPEN}{_CLOSE}]+\s*"  # punctuation alone
    r"|\s+"
)
_TEXTUAL_PATTERN = r"\S+\s*|\s+"
# Rich (Static, Markdown and every Content) wraps with its own `\s*\S+\s*`: the same idea
RICH_CJK_WORD = re.compile(
    rf"\s*(?:[{_OPEN}]*[{_CJK}][{_CLOSE}]*|[{_OPEN}]*[^\s{_CJK}{_OPEN}{_CLOSE}]+[{_CLOSE}]*|[{_OPEN}{_CLOSE}]+)\s*"
)
_RICH_PATTERN = r"\s*\S+\s*"


def _swap(module_name: str, attr: str, expected: str, replacement: re.Pattern) -> bool:
    import importlib

    try:
        module = importlib.import_module(module_name)
    except ImportError:  # pragma: no cover - a release without the module
        return False
    current = getattr(module, attr, None)
    if current is replacement:
        return True
    if not isinstance(current, re.Pattern) or current.pattern != expected:
        return False
    setattr(module, attr, replacement)
    return True


def enable_cjk_wrap() -> bool:
    """Let Rich and Textual break lines between CJK characters; True when both are (now or already)."""
    rich_ok = _swap("rich._wrap", "re_word", _RICH_PATTERN, RICH_CJK_WORD)
    textual_ok = _swap("textual._wrap", "re_chunk", _TEXTUAL_PATTERN, CJK_CHUNK)
    return rich_ok and textual_ok


_FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})")
_SOFT_BREAK = re.compile(rf"([{_CJK}{_CLOSE}{_OPEN}])\n(?=[{_CJK}{_OPEN}{_CLOSE}])")


def join_cjk_lines(markdown: str) -> str:
    """Markdown turns a line break inside a paragraph into a space; between two Chinese characters
    that space shows (`以便 自动求导`). Join such lines, outside code blocks; nothing else changes."""
    out: list[str] = []
    prose: list[str] = []
    fence: str | None = None

    def flush() -> None:
        if prose:
            out.append(_SOFT_BREAK.sub(r"\1", "".join(prose)))
            prose.clear()

    for line in markdown.splitlines(keepends=True):
        match = _FENCE.match(line)
        if fence is None and match:
            flush()
            fence = match.group(1)[0] * len(match.group(1))
            out.append(line)
        elif fence is not None:
            out.append(line)
            if line.strip().startswith(fence) and line.strip().strip(fence[0]) == "":
                fence = None
        else:
            prose.append(line)
    flush()
    return "".join(out)

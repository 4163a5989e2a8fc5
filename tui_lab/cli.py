"""The `dllab` command line: `dllab` alone opens the app; subcommands print text or `--json`.

Thin by design: each command module in `tui_lab.commands` parses its options, calls the core and
renders with rich. Heavy imports (torch) happen inside commands, so `dllab --help` stays instant.
`--lang en|zh` works on `dllab` itself and on every command (`tui_lab.i18n` says how the language
is chosen when it is not given); help texts are translated before typer prints them.
"""

from __future__ import annotations

import sys
from typing import Any, Optional

import typer
from typer.core import TyperGroup

try:  # typer >= 0.20 vendors click as typer._click; older versions use click itself
    from typer._click.exceptions import ClickException, UsageError
except ImportError:  # pragma: no cover
    from click.exceptions import ClickException, UsageError

from tui_lab.commands import register_all
from tui_lab.commands._common import LANG_HELP, add_lang_options, apply_lang, translate_help


class OneLineErrors(TyperGroup):
    """Every error is one line on stderr with an exit code: typer's usage errors (unknown option,
    `--limit abc`) as well as the core's; never a box, never a traceback for the user's input."""

    def main(self, args: Any = None, prog_name: Any = None, complete_var: Any = None,
             standalone_mode: bool = True, **extra: Any) -> Any:
        from tui_lab.commands._common import EXIT_BAD_INPUT, error_code, one_line
        from tui_lab.errors import DllabError
        from tui_lab.limits import shown
        from tui_lab.i18n import _

        try:
            rv = super().main(args=args, prog_name=prog_name or "dllab", complete_var=complete_var, standalone_mode=False, **extra)
            code = rv if isinstance(rv, int) else 0
        except UsageError as exc:
            cmd = exc.ctx.command_path if exc.ctx is not None else "dllab"
            sys.stderr.write(_("error: {message}").format(message=f"{one_line(exc.format_message())} (see `{cmd} --help`)") + "\n")
            code = EXIT_BAD_INPUT
        except ClickException as exc:
            sys.stderr.write(_("error: {message}").format(message=one_line(exc.format_message())) + "\n")
            code = exc.exit_code
        except DllabError as exc:  # a core error outside a command's own handling
            sys.stderr.write(_("error: {message}").format(message=one_line(str(exc))) + "\n")
            code = error_code(exc)
        except OSError as exc:  # a path the user gave that the system refuses (too long, no permission, ...)
            where = f" ({shown(str(exc.filename))})" if exc.filename is not None else ""
            sys.stderr.write(f"error: {one_line(exc.strerror or str(exc))}{where}\n")
            code = 1
        except (typer.Abort, KeyboardInterrupt):
            sys.stderr.write(_("error: {message}").format(message=_("cancelled (Ctrl-C)")) + "\n")
            code = 130
        except typer.Exit as exc:
            code = exc.exit_code
        sys.stderr.flush()
        if standalone_mode:
            sys.exit(code)
        return code


app = typer.Typer(
    cls=OneLineErrors,
    name="dllab",
    help="A deep-learning learning lab in the terminal. Run with no command to open the app.",
    no_args_is_help=False,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback(invoke_without_command=True)
def _root(ctx: typer.Context,
          lang: Optional[str] = typer.Option(None, "--lang", metavar="<en|zh>", help=LANG_HELP, show_default=False)) -> None:
    """Open the app when no subcommand is given."""
    chosen = apply_lang(lang)
    if ctx.invoked_subcommand is None:
        from tui_lab.ui.app import run_app

        run_app(lang=chosen, remember=lang is not None)


register_all(app)
add_lang_options(app)


def _lang_in_argv(argv: list[str]) -> Optional[str]:
    """The value of the last `--lang X` / `--lang=X` in argv (help is translated before parsing)."""
    found = None
    for i, arg in enumerate(argv):
        if arg == "--":
            break
        if arg == "--lang" and i + 1 < len(argv):
            found = argv[i + 1]
        elif arg.startswith("--lang="):
            found = arg.split("=", 1)[1]
    return found


def command(argv: Optional[list[str]] = None):
    """The click command tree of `dllab`, its help texts in the language argv and the environment ask for."""
    from tui_lab.i18n import resolve_lang, saved_lang, set_lang

    argv = sys.argv[1:] if argv is None else argv
    try:
        set_lang(resolve_lang(_lang_in_argv(argv), saved=saved_lang()))
    except Exception:  # a bad value is reported when the option itself is parsed
        pass
    cmd = typer.main.get_command(app)
    translate_help(cmd)
    return cmd


def main() -> None:
    command()(prog_name="dllab")


if __name__ == "__main__":
    main()

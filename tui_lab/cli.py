"""The `dllab` command line: `dllab` alone opens the app; subcommands print text or `--json`.

Thin by design: each command module in `tui_lab.commands` parses its options, calls the core and
renders with rich. Heavy imports (torch) happen inside commands, so `dllab --help` stays instant.
"""

from __future__ import annotations

import sys
from typing import Any

import typer
from typer.core import TyperGroup

try:  # typer >= 0.20 vendors click as typer._click; older versions use click itself
    from typer._click.exceptions import ClickException, UsageError
except ImportError:  # pragma: no cover
    from click.exceptions import ClickException, UsageError

from tui_lab.commands import register_all


class OneLineErrors(TyperGroup):
    """Every error is one line on stderr with an exit code: typer's usage errors (unknown option,
    `--limit abc`) as well as the core's; never a box, never a traceback for the user's input."""

    def main(self, args: Any = None, prog_name: Any = None, complete_var: Any = None,
             standalone_mode: bool = True, **extra: Any) -> Any:
        from tui_lab.commands._common import EXIT_BAD_INPUT, error_code, one_line
        from tui_lab.errors import DllabError
        from tui_lab.limits import shown

        try:
            rv = super().main(args=args, prog_name=prog_name or "dllab", complete_var=complete_var, standalone_mode=False, **extra)
            code = rv if isinstance(rv, int) else 0
        except UsageError as exc:
            cmd = exc.ctx.command_path if exc.ctx is not None else "dllab"
            sys.stderr.write(f"error: {one_line(exc.format_message())} (see `{cmd} --help`)\n")
            code = EXIT_BAD_INPUT
        except ClickException as exc:
            sys.stderr.write(f"error: {one_line(exc.format_message())}\n")
            code = exc.exit_code
        except DllabError as exc:  # a core error outside a command's own handling
            sys.stderr.write(f"error: {one_line(str(exc))}\n")
            code = error_code(exc)
        except OSError as exc:  # a path the user gave that the system refuses (too long, no permission, ...)
            where = f" ({shown(str(exc.filename))})" if exc.filename is not None else ""
            sys.stderr.write(f"error: {one_line(exc.strerror or str(exc))}{where}\n")
            code = 1
        except (typer.Abort, KeyboardInterrupt):
            sys.stderr.write("error: cancelled (Ctrl-C)\n")
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
def _root(ctx: typer.Context) -> None:
    """Open the app when no subcommand is given."""
    if ctx.invoked_subcommand is None:
        from tui_lab.ui.app import run_app

        run_app()


register_all(app)


def main() -> None:
    app()


if __name__ == "__main__":
    main()

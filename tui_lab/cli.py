"""The `dllab` command line: `dllab` alone opens the app; subcommands print text or `--json`.

Thin by design: each command module in `tui_lab.commands` parses its options, calls the core and
renders with rich. Heavy imports (torch) happen inside commands, so `dllab --help` stays instant.
"""

from __future__ import annotations

import typer

from tui_lab.commands import register_all

app = typer.Typer(
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

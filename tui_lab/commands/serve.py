"""`dllab serve`: the same app in a browser (textual-serve), loopback by default."""

from __future__ import annotations

import typer

from tui_lab.commands._common import user_errors


def register(app: typer.Typer) -> None:
    @app.command("serve")
    def serve_command(
        host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on; loopback unless --allow-remote."),
        port: int = typer.Option(8000, "--port", help="Port to listen on."),
        allow_remote: bool = typer.Option(
            False, "--allow-remote",
            help="Allow a non-loopback --host; a random token is then printed once and required.",
        ),
    ) -> None:
        """Serve the lab to a browser: one app per tab. From a laptop: ssh -L 8000:localhost:8000 BOX."""
        try:
            from tui_lab.web.server import serve
        except ImportError as exc:  # textual-serve is a dependency; a broken install says so in one line
            from tui_lab.commands._common import fail

            raise fail(f"serve: textual-serve is not importable ({exc}); pip install textual-serve", 1) from None
        with user_errors():
            serve(host, port, allow_remote)

"""`dllab serve`: the lab in a browser, one app process per browser connection (textual-serve).

Safe by default. The snippet runner executes Python, so a served lab is a shell for whoever reaches
it: the server binds to loopback only, and reaching it from another machine goes through an SSH
tunnel (`ssh -L 8000:localhost:8000 BOX`). Any other address needs `--allow-remote`, and then a
random token, printed once, is required: in the URL (`?token=...`) on the first request, which sets
an HttpOnly, SameSite=Strict cookie that the page's own requests (its scripts, its websocket) carry.
Everything else gets 403.

Closing the tab ends that connection's app process the way quitting does: the app's screens unmount,
a training in progress is cancelled at its next step and recorded as cancelled with its curve.
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets
import shlex
import socket
import sys
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp_jinja2
from aiohttp import web
from textual_serve.server import Server, to_int

from tui_lab.errors import ConfigError

TOKEN_COOKIE = "dllab_token"
LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and localhost: addresses no other machine can reach."""
    name = host.strip().strip("[]").lower()
    if name in LOCAL_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def check_bind(host: str, allow_remote: bool) -> None:
    """Refuse, in one line, a bind that other machines could reach unless it was asked for."""
    if not host.strip() or not host.isascii() or not host.isprintable() or len(host) > 253:
        raise ConfigError("host", "must be an address such as 127.0.0.1 or a host name")
    if not is_loopback(host) and not allow_remote:
        raise ConfigError("host", f"{host!r} can be reached from other machines, and the lab runs Python for "
                                  "whoever reaches it; keep 127.0.0.1 and use an SSH tunnel, or pass "
                                  "--allow-remote (a token will be required)")


def check_port(host: str, port: int) -> None:
    """A one-line error when the port is out of range or taken (before textual-serve starts)."""
    if not 1 <= port <= 65535:
        raise ConfigError("port", f"must be from 1 to 65535, got {port}")
    family = socket.AF_INET6 if ":" in host.strip("[]") else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host.strip("[]"), port))
        except OSError as exc:
            raise ConfigError("port", f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
        except (TypeError, ValueError, UnicodeError) as exc:  # a name the resolver cannot even encode
            raise ConfigError("host", f"cannot listen on {host!r}: {exc}") from None


def new_token() -> str:
    return secrets.token_urlsafe(24)


def app_command() -> str:
    """The command each browser connection runs: this Python, this lab."""
    return f"{shlex.quote(sys.executable)} -m tui_lab.cli"


def tunnel_hint(port: int) -> str:
    return f"ssh -L {port}:localhost:{port} <this box>   then open http://localhost:{port} on your laptop"


class DllabServer(Server):
    """textual-serve's server with dllab's start-up lines and, when given a token, a token check."""

    def __init__(self, host: str, port: int, token: str | None = None, command: str | None = None,
                 public_url: str | None = None) -> None:
        display_host = "localhost" if is_loopback(host) else host
        super().__init__(command or app_command(), host=host, port=port, title="dllab",
                         public_url=public_url or f"http://{display_host}:{port}")
        self.token = token

    def url(self) -> str:
        return f"{self.public_url}/" + (f"?token={self.token}" if self.token else "")

    @aiohttp_jinja2.template("app_index.html")
    async def handle_index(self, request: web.Request) -> dict[str, Any]:
        """textual-serve's page, with its URLs built from the address the browser used: through
        `ssh -L 9000:localhost:8000` the page must open its websocket on localhost:9000, not :8000."""
        base = f"{request.scheme}://{request.host}"
        ws_base = ("wss://" if request.scheme == "https" else "ws://") + request.host
        router = request.app.router
        return {
            "font_size": to_int(request.query.get("fontsize", "16"), 16),
            "app_websocket_url": f"{ws_base}{router['websocket'].url_for()}",
            "config": {"static": {"url": f"{base}{router['static'].url_for(filename='/')}".rstrip("/") + "/"}},
            "application": {"name": self.title},
        }

    async def _make_app(self) -> web.Application:
        app = await super()._make_app()
        if self.token is not None:
            app.middlewares.append(self._require_token)
        return app

    @web.middleware
    async def _require_token(self, request: web.Request,
                             handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.StreamResponse:
        assert self.token is not None
        given = request.query.get("token")
        if given is not None and hmac.compare_digest(given, self.token):
            response = await handler(request)
            if not isinstance(response, web.WebSocketResponse):
                response.set_cookie(TOKEN_COOKIE, self.token, httponly=True, samesite="Strict")
            return response
        cookie = request.cookies.get(TOKEN_COOKIE)
        if cookie is not None and hmac.compare_digest(cookie, self.token):
            return await handler(request)
        return web.Response(status=403, text="dllab serve: open the URL with the token printed when the server "
                                             "started (?token=...)\n")

    async def on_startup(self, app: web.Application) -> None:
        self.console.print(f"dllab in a browser: {self.url()}", highlight=False, soft_wrap=True)
        if self.token is None:
            self.console.print(f"from your laptop: {tunnel_hint(self.port)}", highlight=False, soft_wrap=True)
        else:
            self.console.print("reachable from other machines: anyone with this token runs Python here; "
                               "Ctrl+C stops the server", highlight=False, soft_wrap=True)
        self.console.print("each browser tab gets its own lab; closing it stops its training (the run is kept). "
                           "Ctrl+C quits.", highlight=False, soft_wrap=True)


def serve(host: str, port: int, allow_remote: bool = False, token: str | None = None, **kwargs: Any) -> None:
    """Check the bind, then serve until Ctrl+C (ConfigError, one line, for a refused bind)."""
    check_bind(host, allow_remote)
    check_port(host, port)
    if not is_loopback(host) and token is None:
        token = new_token()
    DllabServer(host, port, token, **kwargs).serve()

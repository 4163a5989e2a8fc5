"""`dllab serve`: the bind rules, the token check, and the lab driven in a real browser.

The browser test starts `dllab serve` on a free port and drives headless Chromium (Debian's, through
Playwright): the catalog, a filter, a lesson, a short training started and stopped, a tab closed
mid-training. xterm.js draws with WebGL when it can; the test switches WebGL off so xterm falls back
to its DOM renderer and the page's text can be read. It skips, saying why, only when no browser or
Playwright is installed. Set DLLAB_SCREENSHOTS=DIR to keep the screenshot it takes (the README's).
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tui_lab.cli import app
from tui_lab.web.server import DllabServer, check_bind, is_loopback

CHROMIUM = next((p for p in ("/usr/bin/chromium", "/usr/bin/chromium-browser") if Path(p).exists()), None)
try:
    import playwright.async_api  # noqa: F401

    HAVE_PLAYWRIGHT = True
except ImportError:  # pragma: no cover - the test extra installs it
    HAVE_PLAYWRIGHT = False


# --- bind rules ------------------------------------------------------------------------------------


@pytest.mark.parametrize("host, loopback", [("127.0.0.1", True), ("127.9.9.9", True), ("::1", True), ("[::1]", True),
                                            ("localhost", True), ("0.0.0.0", False), ("::", False),
                                            ("192.168.1.4", False), ("example.org", False)])
def test_loopback_addresses(host, loopback):
    assert is_loopback(host) is loopback


@pytest.mark.parametrize("host", ["0.0.0.0", "10.1.2.3", "::"])
def test_a_non_loopback_bind_is_refused_in_one_line_without_allow_remote(host):
    result = CliRunner().invoke(app, ["serve", "--host", host, "--port", "8999"])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: host:") and "--allow-remote" in lines[0]
    assert "Traceback" not in result.output
    check_bind(host, allow_remote=True)  # asked for: allowed (with a token, see below)


def test_a_taken_port_is_one_line():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = CliRunner().invoke(app, ["serve", "--port", str(port)])
    assert result.exit_code == 2 and result.output.startswith("error: port: cannot listen on 127.0.0.1:")
    assert len(result.output.strip().splitlines()) == 1


# --- the token -------------------------------------------------------------------------------------


def test_with_a_token_every_request_needs_it_then_its_cookie():
    from aiohttp.test_utils import TestClient, TestServer

    async def run() -> None:
        server = DllabServer("0.0.0.0", 8000, token="s3cret-token", command="true")
        client = TestClient(TestServer(await server._make_app()))
        await client.start_server()
        try:
            assert (await client.get("/")).status == 403
            assert (await client.get("/?token=wrong")).status == 403
            assert (await client.get("/static/js/textual.js")).status == 403
            assert (await client.get("/ws")).status == 403
            first = await client.get("/?token=s3cret-token")
            assert first.status == 200 and "dllab_token" in first.cookies
            assert (await client.get("/static/js/textual.js")).status == 200  # the cookie carries it now
        finally:
            await client.close()

    asyncio.run(run())


def test_the_page_uses_the_address_the_browser_used():
    """Through `ssh -L 9000:localhost:8000` the page must open its websocket on :9000, not :8000."""
    from aiohttp.test_utils import TestClient, TestServer

    async def run() -> None:
        server = DllabServer("127.0.0.1", 8000, command="true")
        client = TestClient(TestServer(await server._make_app()))
        await client.start_server()
        try:
            page = await (await client.get("/", headers={"Host": "localhost:9000"})).text()
            assert "ws://localhost:9000/ws" in page and "http://localhost:9000/static/" in page
            assert "localhost:8000" not in page
        finally:
            await client.close()

    asyncio.run(run())


def test_remote_serving_prints_a_token_url(monkeypatch, capsys):
    import tui_lab.web.server as web_server

    served = {}
    monkeypatch.setattr(web_server.DllabServer, "serve", lambda self, debug=False: served.update(url=self.url()))
    monkeypatch.setattr(web_server, "check_port", lambda host, port: None)
    web_server.serve("0.0.0.0", 8123, allow_remote=True)
    assert served["url"].startswith("http://0.0.0.0:8123/?token=") and len(served["url"].split("=")[1]) >= 24


# --- a real browser --------------------------------------------------------------------------------

NO_WEBGL = """
(() => {
  const getContext = HTMLCanvasElement.prototype.getContext;
  HTMLCanvasElement.prototype.getContext = function (kind, ...rest) {
    return kind === 'webgl' || kind === 'webgl2' ? null : getContext.call(this, kind, ...rest);
  };
})();
"""
ROWS = "() => Array.from(document.querySelectorAll('.xterm-rows > div')).map(d => d.textContent).join('\\n')"


async def _gone(page, words: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while words in await page.evaluate(ROWS):
        if time.monotonic() > deadline:
            raise AssertionError(f"{words!r} is still on the page")
        await page.wait_for_timeout(200)


WHERE = """(words) => {
  for (const row of document.querySelectorAll('.xterm-rows > div')) {
    const text = row.textContent, i = text.indexOf(words);
    if (i >= 0) {
      const box = row.getBoundingClientRect(), cell = box.width / text.length;
      return {x: box.left + (i + words.length / 2) * cell, y: box.top + box.height / 2};
    }
  }
  return null;
}"""


async def _click(page, words: str) -> None:
    """Click the middle of `words` where the terminal shows them: a real mouse click on a cell."""
    await _text(page, words)
    where = await page.evaluate(WHERE, words)
    await page.mouse.click(where["x"], where["y"])


async def _start(page, run: str, click: bool = False) -> None:
    """Start a training (Ctrl+S, or a click on Start) until the run shows: a tab's fresh app process
    may still be importing torch."""
    for _ in range(20):
        if click:
            await _click(page, "Start ^S")
        else:
            await page.keyboard.press("Control+s")
        try:
            await _text(page, run, timeout=5)
            return
        except AssertionError:
            continue
    raise AssertionError(f"{run} never started")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _app_processes(home: Path) -> list[int]:
    """Pids of dllab app processes started for this test (their environment names its DLLAB_HOME)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmd = (entry / "cmdline").read_bytes().split(b"\0")
            env = (entry / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"tui_lab.cli" in cmd and b"serve" not in cmd and f"DLLAB_HOME={home}".encode() in env:
            pids.append(int(entry.name))
    return pids


class Served:
    def __init__(self, home: Path) -> None:
        self.port = _free_port()
        env = {**os.environ, "DLLAB_HOME": str(home), "OMP_NUM_THREADS": "1"}
        self.proc = subprocess.Popen([sys.executable, "-m", "tui_lab.cli", "serve", "--port", str(self.port)],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
                                     start_new_session=True)
        self.first_line = self.proc.stdout.readline() if self.proc.stdout else ""

    def close(self) -> None:
        os.killpg(self.proc.pid, signal.SIGINT)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)


async def _text(page, words: str, timeout: float = 60.0) -> str:
    deadline = time.monotonic() + timeout
    text = ""
    while time.monotonic() < deadline:
        text = await page.evaluate(ROWS)
        if words in text:
            return text
        await page.wait_for_timeout(200)
    raise AssertionError(f"{words!r} never showed up in the page; it shows:\n{text}")


@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium (apt-get install chromium); .ci/run installs it")
@pytest.mark.skipif(not HAVE_PLAYWRIGHT, reason="Playwright is not installed (pip install -e '.[test]')")
def test_the_lab_in_a_real_browser(tmp_path):
    from playwright.async_api import async_playwright

    from tui_lab.runs import RunStore

    home = tmp_path / "home"
    home.mkdir()
    served = Served(home)
    assert served.first_line.startswith(f"dllab in a browser: http://localhost:{served.port}/"), served.first_line

    async def drive() -> None:
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=CHROMIUM, args=[
                "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run"])
            try:
                page = await browser.new_page(viewport={"width": 1280, "height": 800})
                await page.add_init_script(NO_WEBGL)
                await page.goto(f"http://localhost:{served.port}/")
                await _text(page, "Linear neural networks")  # the catalog
                await page.focus(".xterm-helper-textarea")  # keys go to the terminal, as after a click
                await page.keyboard.type("softmax regression")
                await _text(page, "softmax regression")  # the filter shows what was typed
                await _gone(page, "Padding and stride")  # and the catalog is filtered
                await page.keyboard.press("Enter")
                await _text(page, "› Softmax regression and cross-entropy")  # the lesson (breadcrumb), its tool beside it
                await _start(page, "run #1", click=True)  # train with the lesson's preset: a mouse click
                await _text(page, "run #1 finished")
                shots = os.environ.get("DLLAB_SCREENSHOTS")
                await page.screenshot(path=str(Path(shots) / "browser.png") if shots else str(tmp_path / "b.png"))

                # a second tab, closed mid-training: its run ends cancelled (or interrupted), never running
                second = await browser.new_page(viewport={"width": 1280, "height": 800})
                await second.add_init_script(NO_WEBGL)
                await second.goto(f"http://localhost:{served.port}/")
                await _text(second, "Linear neural networks")
                await second.focus(".xterm-helper-textarea")
                await second.keyboard.type("resnet")
                await _text(second, "resnet")
                await _gone(second, "Padding and stride")
                await second.keyboard.press("Enter")
                await _text(second, "Batch normalization")  # the lesson screen
                await _start(second, "run #2")
                await second.close()
            finally:
                await browser.close()

    try:
        asyncio.run(drive())
        store = RunStore(home / "runs.sqlite3")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and store.get_run(2).summary.status == "running":
            time.sleep(0.5)
        first, second = store.get_run(1).summary, store.get_run(2).summary
        assert first.status in ("cancelled", "finished")
        print(f"browser runs: first {first.status}, closed tab {second.status}")
        assert second.status in ("cancelled", "interrupted"), second.status
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and _app_processes(home):
            time.sleep(0.5)
        assert _app_processes(home) == []  # every tab's app process has ended
    finally:
        served.close()

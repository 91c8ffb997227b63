"""Browser tests: headless system Chromium (never a downloaded browser) against a real server on a free port.

The server is uvicorn in a daemon thread, serving ``create_app(Settings(...))`` on a socket bound here first (no
port race), with a temporary data folder. Start and stop waits are bounded so a broken server fails the run
instead of hanging it.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from pathlib import Path
from typing import Iterator

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
    "--disable-dev-shm-usage",
]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    # A missing browser is a failure, not a skip: these tests are the only check of the page.
    assert CHROMIUM.exists(), f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)"
    return {**browser_type_launch_args, "executable_path": str(CHROMIUM), "args": CHROMIUM_FLAGS}


class LiveServer:
    def __init__(self, url: str, data_dir: Path, app=None, server=None):  # noqa: ANN001
        self.url = url
        self.data_dir = data_dir
        self.app = app
        self.server = server


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    import uvicorn

    from app.main import create_app
    from app.settings import Settings

    data_dir = tmp_path_factory.mktemp("creditlab-data")
    settings = Settings(data_dir=data_dir, max_concurrent_runs=2, log_level="warning")
    app = create_app(settings)

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", ws_per_message_deflate=False, lifespan="on",
                            timeout_graceful_shutdown=5)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True, name="live-server")
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive():
            pytest.fail("the live server thread died while starting (see the log above)")
        if time.monotonic() > deadline:
            server.should_exit = True
            pytest.fail("the live server did not start within 60 s")
        time.sleep(0.05)
    try:
        yield LiveServer(f"http://127.0.0.1:{port}", data_dir, app, server)
    finally:
        server.should_exit = True
        thread.join(15)
        if thread.is_alive():
            server.force_exit = True
            thread.join(5)
        sock.close()


@pytest.fixture(scope="session")
def base_url(live_server: LiveServer) -> str:
    # pytest-base-url's fixture, so page.goto("/") works.
    return live_server.url


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict) -> dict:
    return {**browser_context_args, "viewport": {"width": 1440, "height": 900}, "service_workers": "block"}


@pytest.fixture(scope="session")
def shots_dir() -> Path:
    d = Path(os.environ.get("CREDITLAB_SHOTS", "/tmp/shots"))
    d.mkdir(parents=True, exist_ok=True)
    return d


class Guard:
    """Collects what must never happen on a page: requests to other origins, page errors, console errors."""

    def __init__(self, origin: str):
        self.origin = origin
        self.problems: list[str] = []
        self.allowed_console: list[str] = []

    def watch(self, page) -> None:  # noqa: ANN001 - playwright Page
        origin = self.origin
        ws_origin = origin.replace("http://", "ws://", 1)

        def on_request(request) -> None:  # noqa: ANN001
            url = request.url
            if not (url.startswith(origin + "/") or url.startswith("data:") or url == origin):
                self.problems.append(f"request to another origin: {url}")

        def on_console(msg) -> None:  # noqa: ANN001
            if msg.type == "error" and not any(a in msg.text for a in self.allowed_console):
                self.problems.append(f"console error: {msg.text}")

        def on_websocket(ws) -> None:  # noqa: ANN001
            if not ws.url.startswith(ws_origin + "/"):
                self.problems.append(f"websocket to another origin: {ws.url}")

        page.on("request", on_request)
        page.on("console", on_console)
        page.on("pageerror", lambda err: self.problems.append(f"page error: {err}"))
        page.on("websocket", on_websocket)

    def allow_console(self, text: str) -> None:
        self.allowed_console.append(text)

    def check(self) -> None:
        assert not self.problems, "\n".join(self.problems)


@pytest.fixture()
def new_guard(live_server: LiveServer):  # noqa: ANN201
    """Make a Guard for pages opened outside the default ``page`` fixture."""
    return lambda: Guard(live_server.url)


@pytest.fixture()
def guard(live_server: LiveServer, page) -> Iterator[Guard]:  # noqa: ANN001
    g = Guard(live_server.url)
    g.watch(page)
    yield g
    g.check()


def _stop_all_runs(live: LiveServer) -> None:
    """End every live run so the next test gets a worker at once (the server caps concurrent runs).

    Runs belong to their owners (a test's browser holds the token), so this goes to the run manager itself, on the
    server's event loop, rather than through the HTTP API.
    """
    import asyncio

    from app.protocol import CONTROL

    manager = live.app.state.manager
    loop = live.server.servers[0].get_loop()

    async def stop_all() -> None:
        for run in list(manager.list()):
            if getattr(run, "status", None) in ("queued", "paused", "running"):
                try:
                    await manager.control(run, CONTROL.validate_python({"action": "stop"}))
                except Exception:  # noqa: BLE001 - best effort: a run may end on its own meanwhile
                    pass

    asyncio.run_coroutine_threadsafe(stop_all(), loop).result(timeout=20)


@pytest.fixture(autouse=True)
def _fresh_runs(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "live_server" in request.fixturenames:
        _stop_all_runs(request.getfixturevalue("live_server"))

"""Helpers for the web-app tests: a fresh app per test on a temp data dir, tiny fast specs, deadline-based waits.

A module of its own (not conftest.py) so that test files can import its helpers by a unique name."""

from __future__ import annotations

import contextlib
import secrets
import time
import warnings
from pathlib import Path
from typing import Any, Callable, Iterator

import orjson
import pytest

with warnings.catch_warnings():  # starlette 1.x asks for httpx2 and warns about httpx (UserWarning subclass)
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from app.main import create_app
from app.protocol import decode_snapshot
from app.settings import Settings

#: A run small enough to train in milliseconds per update.
TINY = {"task": "add", "task_config": {"t1": 2, "t2": 3, "steps": 8}, "arch": "rnn",
        "arch_config": {"hidden": 6}, "rule": "bptt", "batch": 2, "steps": 200}

#: Diverges on its second update (ReLU, large gain, SGD with lr 10 and momentum).
DIVERGING = {**TINY, "arch_config": {"hidden": 8, "gain": 5.0, "nonlinearity": "relu"},
             "task_config": {}, "optim": {"name": "sgd", "lr": 10.0, "momentum": 0.9, "clip": 0.0}}


#: The owner token the helpers present: every run they create belongs to it, so their controls are the owner's.
OWNER = secrets.token_urlsafe(32)
AUTH = {"Authorization": f"Bearer {OWNER}"}


def wait_for(check: Callable[[], Any], timeout: float = 60.0, what: str = "condition") -> Any:
    """Poll ``check`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.01)


def make_settings(data_dir: Path, **overrides: Any) -> Settings:
    base = dict(data_dir=data_dir, max_concurrent_runs=2, fps=20, snapshot_fps=10, send_timeout_s=5)
    return Settings(**{**base, **overrides})


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as c:
        yield c


def new_run(client: TestClient, **overrides: Any) -> dict[str, Any]:
    r = client.post("/api/runs", json={**TINY, **overrides}, headers=AUTH)
    assert r.status_code == 201, r.text
    return r.json()


def run_info(client: TestClient, run_id: str) -> dict[str, Any]:
    r = client.get(f"/api/runs/{run_id}")
    assert r.status_code == 200, r.text
    return r.json()


def wait_status(client: TestClient, run_id: str, *statuses: str, timeout: float = 60.0) -> dict[str, Any]:
    def check() -> dict[str, Any] | None:
        info = run_info(client, run_id)
        return info if info["status"] in statuses else None

    return wait_for(check, timeout, f"run {run_id} to be {'/'.join(statuses)}")


def ready_run(client: TestClient, **overrides: Any) -> dict[str, Any]:
    """A new run whose worker is up (status paused at step 0)."""
    return wait_status(client, new_run(client, **overrides)["id"], "paused")


def control(client: TestClient, run_id: str, action: str, value: float | None = None,
            headers: dict[str, str] | None = None) -> Any:
    """POST a control as the helpers' owner (``headers`` replaces the owner's Authorization)."""
    body: dict[str, Any] = {"action": action}
    if value is not None:
        body["value"] = value
    return client.post(f"/api/runs/{run_id}/control", json=body, headers=AUTH if headers is None else headers)


class Reader:
    """Reads a test websocket: acks every snapshot, keeps what arrived, and waits for messages by predicate."""

    def __init__(self, ws: Any):
        self.ws = ws
        self.texts: list[dict[str, Any]] = []
        self.snapshots: list[bytes] = []

    def next(self) -> dict[str, Any] | bytes:
        message = self.ws.receive()
        if message.get("bytes") is not None:
            self.snapshots.append(message["bytes"])
            self.ws.send_text('{"type":"ack"}')
            return message["bytes"]
        if message["type"] == "websocket.close":
            raise AssertionError(f"socket closed: {message}")
        data = orjson.loads(message["text"])
        self.texts.append(data)
        return data

    def until(self, predicate: Callable[[dict[str, Any]], bool], limit: int = 10_000) -> dict[str, Any]:
        """Read until a JSON message satisfies ``predicate`` (the test's pytest timeout bounds the wait)."""
        for _ in range(limit):
            m = self.next()
            if isinstance(m, dict) and predicate(m):
                return m
        raise AssertionError("message never came")

    def until_snapshot(self, limit: int = 10_000) -> tuple[dict[str, Any], dict[str, Any]]:
        for _ in range(limit):
            m = self.next()
            if isinstance(m, bytes):
                return decode_snapshot(m)
        raise AssertionError("no snapshot came")

    def records(self) -> list[dict[str, Any]]:
        return [r for m in self.texts if m["type"] == "metrics" for r in m["records"]]


@contextlib.contextmanager
def watch(client: TestClient, run_id: str, headers: dict[str, str] | None = None) -> Iterator[Reader]:
    """A websocket on ``run_id``, as the helpers' owner (handshake ``Authorization``) unless ``headers`` says
    otherwise. On the way out it says goodbye and waits until the server has let go, so the test client never
    has to cancel a handler that is still running (a race inside the test client)."""
    with client.websocket_connect(f"/ws/runs/{run_id}", headers=AUTH if headers is None else headers) as ws:
        before = len(client.app.state.manager.runs[run_id].hub.viewers)  # type: ignore[attr-defined]
        yield Reader(ws)
        ws.close(1000)
        hub = client.app.state.manager.runs[run_id].hub  # type: ignore[attr-defined]
        wait_for(lambda: len(hub.viewers) < before, what="the server to let the viewer go")

"""The hub alone, with fake sockets: a stalled viewer neither slows the others nor grows without bound."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.runs.hub import Hub

pytestmark = pytest.mark.timeout(60)


class FakeSocket:
    """Records what it is sent; a stalled one never completes a send."""

    def __init__(self, stalled: bool = False):
        self.stalled = stalled
        self.sent: list[Any] = []
        self.inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.closed: tuple[int, str] | None = None

    async def _send(self, data: Any) -> None:
        if self.stalled:
            await asyncio.Event().wait()
        self.sent.append(data)

    async def send_text(self, text: str) -> None:
        await self._send(text)

    async def send_bytes(self, data: bytes) -> None:
        await self._send(data)

    async def receive(self) -> dict[str, Any]:
        return await self.inbox.get()

    async def close(self, code: int = 1000, reason: str = "") -> None:
        self.closed = (code, reason)

    def texts(self) -> list[dict[str, Any]]:
        return [orjson.loads(m) for m in self.sent if isinstance(m, str)]


async def _until(check: Any, timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.001)


async def _no_control(message: Any) -> None:
    return None


def test_stalled_viewer_does_not_hold_back_the_others() -> None:
    async def main() -> None:
        hub = Hub(lambda: orjson.dumps({"type": "hello", "history": []}).decode(), buffer=8, max_unacked=2,
                  send_timeout=30.0)
        healthy, stalled = FakeSocket(), FakeSocket(stalled=True)
        tasks = [asyncio.create_task(hub.serve(ws, _no_control)) for ws in (healthy, stalled)]  # type: ignore[arg-type]
        await _until(lambda: len(hub.viewers) == 2)
        slow = next(v for v in hub.viewers if v.websocket is stalled)
        for i in range(2000):
            hub.publish_metrics(orjson.dumps({"type": "metrics", "records": [{"step": i}], "diverged": False})
                                .decode())
            hub.publish_snapshot(bytes(1000) + i.to_bytes(4, "little"))
            if i % 10 == 0:
                hub.publish_status(orjson.dumps({"type": "status", "step": i}).decode())
            await asyncio.sleep(0)  # one publish per loop turn, as the worker's messages arrive
            # the stalled viewer holds at most `buffer` messages and one snapshot, whatever was published
            assert len(slow.metrics) <= 8
        await _until(lambda: any(m["type"] == "metrics" and m["records"][0]["step"] == 1999
                                 for m in healthy.texts()[-3:]))
        steps = [m["records"][0]["step"] for m in healthy.texts() if m["type"] == "metrics"]
        assert steps == list(range(2000))  # the healthy viewer lost nothing
        assert healthy.texts()[0]["type"] == "hello"
        assert len(slow.metrics) <= 8 and stalled.sent == []
        assert sum(isinstance(m, bytes) for m in healthy.sent) <= 2  # snapshots wait for acks
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    asyncio.run(main())


def test_lagging_viewer_gets_a_fresh_hello_instead_of_a_gap() -> None:
    async def main() -> None:
        history: list[int] = []
        hub = Hub(lambda: orjson.dumps({"type": "hello", "history": list(history)}).decode(), buffer=4)
        ws = FakeSocket(stalled=True)
        task = asyncio.create_task(hub.serve(ws, _no_control))  # type: ignore[arg-type]
        await _until(lambda: len(hub.viewers) == 1)
        viewer = next(iter(hub.viewers))
        for i in range(10):
            history.append(i)
            hub.publish_metrics(orjson.dumps({"type": "metrics", "records": [{"step": i}]}).decode())
        assert viewer.resync and not viewer.metrics  # overflowed: the next thing it gets is a full hello
        ws.stalled = False
        # unstick the pending send by replacing the viewer's socket behaviour: cancel and serve again
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        ws2 = FakeSocket()
        task = asyncio.create_task(hub.serve(ws2, _no_control))  # type: ignore[arg-type]
        await _until(lambda: ws2.texts() and ws2.texts()[0]["type"] == "hello")
        assert ws2.texts()[0]["history"] == list(range(10))
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    asyncio.run(main())


def test_stuck_send_drops_only_that_viewer() -> None:
    async def main() -> None:
        hub = Hub(lambda: '{"type":"hello"}', send_timeout=0.2)
        healthy, stalled = FakeSocket(), FakeSocket(stalled=True)
        tasks = [asyncio.create_task(hub.serve(ws, _no_control)) for ws in (healthy, stalled)]  # type: ignore[arg-type]
        await asyncio.wait_for(tasks[1], 10)  # the stalled viewer's handler ends by itself
        assert stalled.closed is not None and stalled.closed[0] == 4408
        assert [v.websocket for v in hub.viewers] == [healthy]
        hub.publish_metrics('{"type":"metrics","records":[]}')
        await _until(lambda: len(healthy.sent) == 2)
        await healthy.inbox.put({"type": "websocket.disconnect"})
        await asyncio.wait_for(tasks[0], 10)
        assert not hub.viewers

    asyncio.run(main())


def test_acks_release_snapshots_and_bad_messages_get_errors() -> None:
    async def main() -> None:
        hub = Hub(lambda: '{"type":"hello"}', max_unacked=1)
        ws = FakeSocket()
        task = asyncio.create_task(hub.serve(ws, _no_control))  # type: ignore[arg-type]
        await _until(lambda: len(ws.sent) == 1)
        hub.publish_snapshot(b"one")
        await _until(lambda: b"one" in ws.sent)
        hub.publish_snapshot(b"two")
        hub.publish_snapshot(b"three")
        await ws.inbox.put({"type": "websocket.receive", "text": "{oops"})
        await _until(lambda: any(t["type"] == "error" for t in ws.texts()))
        assert b"two" not in ws.sent and b"three" not in ws.sent  # waiting for an ack
        await ws.inbox.put({"type": "websocket.receive", "text": '{"type":"ack"}'})
        await _until(lambda: b"three" in ws.sent)
        assert b"two" not in ws.sent  # latest value only
        await ws.inbox.put({"type": "websocket.disconnect"})
        await asyncio.wait_for(task, 10)

    asyncio.run(main())


@settings(max_examples=60, deadline=None, derandomize=True)
@given(st.lists(st.one_of(st.text(max_size=60), st.binary(max_size=20),
                          st.builds(lambda a, v: orjson.dumps({"type": "control", "action": a, "value": v}).decode(),
                                    st.sampled_from(["play", "lr", "speed", "x"]),
                                    st.one_of(st.none(), st.floats(allow_nan=True), st.integers(-2**63, 2**63 - 1), st.text()))),
                max_size=8))
def test_any_client_message_gets_an_answer_not_a_crash(messages: list[str | bytes]) -> None:
    """Whatever a browser sends, the viewer stays connected; junk gets an error frame, valid controls go through."""

    async def main() -> None:
        seen: list[Any] = []

        async def on_control(message: Any) -> None:
            seen.append(message)
            return None

        hub = Hub(lambda: '{"type":"hello"}')
        ws = FakeSocket()
        task = asyncio.create_task(hub.serve(ws, on_control))  # type: ignore[arg-type]
        for m in messages:
            key = "bytes" if isinstance(m, bytes) else "text"
            await ws.inbox.put({"type": "websocket.receive", key: m})
        await ws.inbox.put({"type": "websocket.disconnect"})
        await asyncio.wait_for(task, 10)
        assert task.exception() is None
        errors = sum(1 for t in ws.texts() if t["type"] == "error")
        assert errors + len(seen) == len(messages)  # every message: exactly one outcome

    asyncio.run(main())


def test_a_flood_of_controls_is_rate_limited_per_connection() -> None:
    """Controls beyond control_rate per second get an error frame and never reach the run."""

    async def main() -> None:
        seen: list[Any] = []

        async def on_control(message: Any) -> None:
            seen.append(message)
            return None

        hub = Hub(lambda: '{"type":"hello"}', control_rate=10)
        ws = FakeSocket()
        task = asyncio.create_task(hub.serve(ws, on_control))  # type: ignore[arg-type]
        for _ in range(50):
            await ws.inbox.put({"type": "websocket.receive", "text": '{"type":"control","action":"pause"}'})
        await _until(lambda: ws.inbox.empty() and len(ws.texts()) >= 17)  # hello + the (bounded) error frames
        limited = [t for t in ws.texts() if t["type"] == "error"]
        assert 10 <= len(seen) <= 12 and limited and all(t["code"] == "rate_limited" for t in limited)
        await ws.inbox.put({"type": "websocket.receive", "text": '{"type":"ack"}'})  # acks are never limited
        await ws.inbox.put({"type": "websocket.disconnect"})
        await asyncio.wait_for(task, 10)
        assert task.exception() is None

    asyncio.run(main())

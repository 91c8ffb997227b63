"""Fan-out of one run's messages to every viewer, each at its own pace.

Each message is encoded **once** (JSON text or a finished binary frame) and handed to every viewer. A viewer
keeps:

* an append-only, bounded buffer of metrics messages: a healthy viewer gets every record; a viewer that falls
  more than ``buffer`` messages behind has its buffer dropped and is sent a fresh ``hello`` instead (the history,
  thinned to a few thousand points; the rest can be paged), so records are never silently lost, only replaced by
  a resync;
* latest-value slots for ``status`` and the snapshot frame: a slow viewer gets the newest and skips the rest;
  snapshots also wait for acks (at most ``max_unacked`` in flight);
* an :class:`asyncio.Event` that wakes its own writer task; a second task reads what the browser sends;
* a token bucket for its controls (``control_rate`` per second): an excess control is answered with an error
  frame (``"code": "rate_limited"``) and never reaches the run (so a flood of pauses builds no snapshots).

A stalled viewer therefore delays only itself, holds bounded memory, and is dropped when one send takes longer
than ``send_timeout``. Everything here runs on the event loop; publishers call in from the loop, never from
another thread.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from typing import Awaitable, Callable

from pydantic import ValidationError
from starlette.websockets import WebSocket

from app.protocol import CLIENT_MESSAGE, AckMessage, AuthMessage, ControlMessage, ErrorMessage, dumps
from app.runs.ratelimit import TokenBucket
from app.streams import close_quietly, received, serve_pair, write_loop

log = logging.getLogger(__name__)

#: Called with a parsed control or auth message; returns a JSON text frame for this viewer (an error, the auth
#: answer), or None.
ControlHandler = Callable[[ControlMessage | AuthMessage], Awaitable[str | None]]


class Viewer:
    """One connected browser: its slots, buffer and wake-up event."""

    def __init__(self, websocket: WebSocket, control_rate: float):
        self.websocket = websocket
        self.controls = TokenBucket(control_rate)
        self.metrics: deque[str] = deque()
        self.status: str | None = None
        self.snapshot: bytes | None = None
        self.errors: deque[str] = deque(maxlen=16)
        self.resync = True  # the first thing a viewer gets is a hello
        self.unacked = 0
        self.wake = asyncio.Event()
        self.wake.set()


class Hub:
    """The viewers of one run."""

    def __init__(self, make_hello: Callable[[], str], *, buffer: int = 256, max_unacked: int = 2,
                 send_timeout: float = 10.0, control_rate: float = 10.0):
        self.make_hello = make_hello
        self.control_rate = control_rate
        self.buffer = buffer
        self.max_unacked = max_unacked
        self.send_timeout = send_timeout
        self.viewers: set[Viewer] = set()
        self.last_snapshot: bytes | None = None
        self.on_change: Callable[[], None] = lambda: None
        """Called when a viewer joins or leaves."""

    # -- publishing (event loop only) ---------------------------------------------------------------------------
    def publish_metrics(self, text: str) -> None:
        for v in self.viewers:
            if v.resync:
                continue  # its coming hello will include these records
            if len(v.metrics) >= self.buffer:
                v.metrics.clear()
                v.resync = True
            else:
                v.metrics.append(text)
            v.wake.set()

    def publish_status(self, text: str) -> None:
        for v in self.viewers:
            v.status = text
            v.wake.set()

    def publish_snapshot(self, frame: bytes) -> None:
        self.last_snapshot = frame
        for v in self.viewers:
            v.snapshot = frame
            v.wake.set()

    def publish_error(self, text: str) -> None:
        for v in self.viewers:
            v.errors.append(text)
            v.wake.set()

    def resync_all(self) -> None:
        """Send every viewer a fresh hello (after a reset the history starts again)."""
        for v in self.viewers:
            v.metrics.clear()
            v.resync = True
            v.wake.set()

    async def close_all(self, code: int = 1001, reason: str = "server shutting down") -> None:
        for v in list(self.viewers):
            await close_quietly(v.websocket, code, reason)

    # -- one viewer's life --------------------------------------------------------------------------------------
    async def serve(self, websocket: WebSocket, on_control: ControlHandler) -> None:
        """Stream to ``websocket`` until it disconnects or stalls. The socket must already be accepted."""
        viewer = Viewer(websocket, self.control_rate)
        viewer.snapshot = self.last_snapshot
        self.viewers.add(viewer)
        self.on_change()
        try:
            ended = await serve_pair(self._write(viewer), self._read(viewer, on_control))
        finally:
            self.viewers.discard(viewer)
            self.on_change()
        if ended == "stalled":
            await close_quietly(websocket, 4408, "too slow: no frame was accepted in time")

    def _next(self, v: Viewer) -> str | bytes | None:
        """The next thing to send to ``v`` (order: hello, metrics, status, errors, snapshot)."""
        if v.resync:
            v.resync = False
            v.metrics.clear()
            v.status = None
            return self.make_hello()
        if v.metrics:
            return v.metrics.popleft()
        if v.status is not None:
            text, v.status = v.status, None
            return text
        if v.errors:
            return v.errors.popleft()
        if v.snapshot is not None and v.unacked < self.max_unacked:
            frame, v.snapshot = v.snapshot, None
            v.unacked += 1
            return frame
        return None

    async def _write(self, v: Viewer) -> str:
        return await write_loop(v.websocket, v.wake, lambda: self._next(v), self.send_timeout)

    async def _read(self, v: Viewer, on_control: ControlHandler) -> None:
        async for message in received(v.websocket):
            text = message.get("text")
            if text is None:
                self._tell(v, "binary messages are not understood; send JSON text")
                continue
            try:
                parsed = CLIENT_MESSAGE.validate_json(text)
            except ValidationError as err:
                first = err.errors()[0]
                where = ".".join(str(p) for p in first["loc"]) or "message"
                self._tell(v, f"bad message: {where}: {first['msg']}")
                continue
            if isinstance(parsed, AckMessage):
                v.unacked = max(0, v.unacked - 1)
                v.wake.set()
            elif not v.controls.take():
                self._tell(v, f"too many controls: at most {self.control_rate:g} per second; this one was ignored",
                           code="rate_limited")
            else:
                reply = await on_control(parsed)
                if reply:
                    v.errors.append(reply)
                    v.wake.set()

    def _tell(self, v: Viewer, text: str, code: str | None = None) -> None:
        message = ErrorMessage(message=text).model_dump()
        if code is not None:
            message["code"] = code
        v.errors.append(dumps(message))
        v.wake.set()

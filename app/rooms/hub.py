"""The room's broadcast: every browser in a room gets the room's state whenever it changes.

Each change bumps the room's ``version``; each listener has only a *seen* version and an :class:`asyncio.Event`,
and its own writer task sends the newest state when it is behind, so a burst of votes becomes one frame for a
slow listener (latest value, bounded memory), and a stalled one (one send longer than ``send_timeout``) is dropped.
The state is encoded once per version and audience (presenter or not), not once per listener. Frames are
``{"type": "room", "version": v, "sent": <server time, s>, "room": {...}}``; the presenter's carry live tallies.

What a browser sends is answered, never trusted: ``{"type": "ping"}`` gets ``{"type": "pong"}``; anything else,
binary or malformed or too big, gets an error frame and the socket stays open; more than ``message_rate`` messages
a second are refused (``"code": "rate_limited"``).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from typing import Any, Callable

import orjson
from starlette.websockets import WebSocket

from app.protocol import dumps
from app.runs.ratelimit import TokenBucket
from app.streams import close_quietly, received, serve_pair, write_loop

MAX_MESSAGE = 1024


class Listener:
    def __init__(self, websocket: WebSocket, presenter: bool, message_rate: float):
        self.websocket = websocket
        self.presenter = presenter
        self.seen = -1
        self.replies: deque[str] = deque(maxlen=8)
        self.bucket = TokenBucket(message_rate, 2 * message_rate)
        self.wake = asyncio.Event()
        self.wake.set()


class RoomHub:
    def __init__(self, view: Callable[[bool], dict[str, Any]], *, send_timeout: float = 10.0,
                 message_rate: float = 5.0):
        self.view = view
        self.send_timeout = send_timeout
        self.message_rate = message_rate
        self.version = 0
        self.listeners: set[Listener] = set()
        self._cache: dict[bool, tuple[int, str]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None

    def changed(self) -> None:
        """A new version; every listener is woken on the event loop (routes that change a room may run in a
        worker thread, where setting an asyncio.Event is not safe)."""
        self.version += 1
        loop = self._loop
        if loop is None:
            return  # nobody has listened yet
        try:
            here = asyncio.get_running_loop()
        except RuntimeError:
            here = None
        if here is loop:
            self._wake_all()
        elif not loop.is_closed():
            loop.call_soon_threadsafe(self._wake_all)

    def _wake_all(self) -> None:
        for listener in self.listeners:
            listener.wake.set()

    def encoded(self, presenter: bool) -> str:
        cached = self._cache.get(presenter)
        if cached is None or cached[0] != self.version:
            cached = (self.version, dumps({"type": "room", "version": self.version, "sent": time.time(),
                                           "room": self.view(presenter)}))
            self._cache[presenter] = cached
        return cached[1]

    async def serve(self, websocket: WebSocket, presenter: bool) -> None:
        """Stream the room to an accepted ``websocket`` until it leaves or stalls."""
        self._loop = asyncio.get_running_loop()
        listener = Listener(websocket, presenter, self.message_rate)
        self.listeners.add(listener)
        try:
            await serve_pair(self._write(listener), self._read(listener))
        finally:
            self.listeners.discard(listener)

    async def close_all(self) -> None:
        for listener in list(self.listeners):
            await close_quietly(listener.websocket, 1001, "server shutting down")

    def _next(self, v: Listener) -> str | None:
        """What the listener gets next: its replies first, then the room's state if it changed since its last."""
        if v.replies:
            return v.replies.popleft()
        if v.seen != self.version:
            v.seen = self.version
            return self.encoded(v.presenter)
        return None

    async def _write(self, v: Listener) -> str:
        return await write_loop(v.websocket, v.wake, lambda: self._next(v), self.send_timeout)

    async def _read(self, v: Listener) -> None:
        async for message in received(v.websocket):
            if not v.bucket.take():
                self._reply(v, {"type": "error", "code": "rate_limited",
                                "message": f"at most {self.message_rate:g} messages a second"})
                continue
            self._reply(v, _answer(message.get("text")))

    def _reply(self, v: Listener, message: dict[str, Any]) -> None:
        v.replies.append(dumps(message))
        v.wake.set()


def _answer(text: str | None) -> dict[str, Any]:
    if text is None:
        return {"type": "error", "message": "binary messages are not understood; send JSON text"}
    if len(text) > MAX_MESSAGE:
        return {"type": "error", "message": f"message too long: at most {MAX_MESSAGE} characters"}
    try:
        message = orjson.loads(text)
    except orjson.JSONDecodeError:
        return {"type": "error", "message": "bad message: not JSON"}
    if isinstance(message, dict) and message.get("type") == "ping":
        return {"type": "pong", "sent": time.time()}
    return {"type": "error", "message": 'bad message: the room socket only answers {"type": "ping"}; '
                                        "presenter controls and votes go over HTTP (docs/rooms.md)"}

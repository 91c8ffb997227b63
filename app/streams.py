"""The life of one streaming websocket, shared by the run hub (app/runs/hub.py) and the room hubs (app/rooms/).

A socket is served by two tasks: a *writer* that sends what the server has for it and a *reader* that takes what
the browser sends. :func:`serve_pair` runs both until the first one ends (the browser left, a send stalled, the
reader saw a disconnect), then cancels both **without awaiting them**: if the handler is itself being cancelled,
a second await would swallow or duplicate that cancellation; the tasks end on their own and their outcome is
retrieved (:func:`consume`) so asyncio never logs it. :func:`close_quietly` closes a socket with a deadline and
ignores one that is already gone.
"""

from __future__ import annotations

import asyncio
from typing import Any, AsyncIterator, Callable, Coroutine

from starlette.websockets import WebSocket, WebSocketDisconnect

#: What a send or close on a socket that has gone away may raise.
GONE = (WebSocketDisconnect, RuntimeError, OSError)


def consume(task: asyncio.Task[Any]) -> None:
    """Retrieve a finished task's outcome so that asyncio never logs it as unretrieved."""
    if not task.cancelled():
        task.exception()


async def serve_pair(writer: Coroutine[Any, Any, Any], reader: Coroutine[Any, Any, Any]) -> Any:
    """Run ``writer`` and ``reader`` until the first ends; cancel both; the writer's result if it ended by itself
    (None if it was cancelled or raised)."""
    tasks = (asyncio.create_task(writer), asyncio.create_task(reader))
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
            task.add_done_callback(consume)
    w = tasks[0]
    if w.done() and not w.cancelled() and w.exception() is None:
        return w.result()
    return None


async def write_loop(websocket: WebSocket, wake: asyncio.Event, next_item: Callable[[], str | bytes | None],
                     send_timeout: float) -> str:
    """A socket's writer: whenever ``wake`` is set, send everything ``next_item`` has (text or binary) until it
    answers None. Ends ``"stalled"`` when one send takes longer than ``send_timeout`` seconds, ``"gone"`` when the
    socket went away."""
    try:
        while True:
            await wake.wait()
            wake.clear()
            while (data := next_item()) is not None:
                async with asyncio.timeout(send_timeout):
                    if isinstance(data, bytes):
                        await websocket.send_bytes(data)
                    else:
                        await websocket.send_text(data)
    except TimeoutError:
        return "stalled"
    except GONE:
        return "gone"


async def received(websocket: WebSocket) -> AsyncIterator[dict[str, Any]]:
    """A socket's reader: every message the browser sends (ASGI ``websocket.receive`` dicts: ``text`` or
    ``bytes``), until it disconnects or the socket is gone."""
    while True:
        try:
            message = await websocket.receive()
        except GONE:
            return
        if message["type"] == "websocket.disconnect":
            return
        yield message


async def close_quietly(websocket: WebSocket, code: int, reason: str, timeout: float = 1.0) -> None:
    """Close ``websocket`` within ``timeout`` seconds; a socket already gone (or too slow to close) is left."""
    try:
        async with asyncio.timeout(timeout):
            await websocket.close(code, reason)
    except (TimeoutError, *GONE):
        pass

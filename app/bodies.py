"""Guards on request bodies, before any route parses them (an ASGI middleware).

* A body larger than ``max_bytes`` gets **413** as soon as that is known: from ``Content-Length`` before anything
  is read, or while counting the bytes of a body streamed without one. Nothing past the limit is buffered.
* A JSON body holding a number that is not finite (``NaN``, ``Infinity``, ``-Infinity`` — which are not JSON but
  Python's parser accepts — or a literal too large for a float, such as ``1e999``) gets **422** whose ``loc``
  names the field, shaped like FastAPI's own validation errors. Without this the value reaches the validation
  error handler, which cannot encode it, and the answer is a 500.

Anything else (including a body that is not JSON at all) is replayed to the app untouched.
"""

from __future__ import annotations

import json
import math
from typing import Any

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send


def non_finite_path(value: Any) -> list[str | int] | None:
    """The path to the first float in ``value`` that is NaN or infinite, or None."""
    if isinstance(value, float):
        return None if math.isfinite(value) else []
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        path = non_finite_path(item)
        if path is not None:
            return [key, *path]
    return None


def _is_json(scope: Scope) -> bool:
    for name, value in scope.get("headers", []):
        if name == b"content-type":
            kind = value.split(b";")[0].strip().lower()
            return kind == b"application/json" or kind.endswith(b"+json")
    return True  # no content type: check anyway (cheap, and safe whatever a route does with it)


class BodyGuard:
    """``app.add_middleware(BodyGuard, max_bytes=...)``."""

    def __init__(self, app: ASGIApp, max_bytes: int = 1 << 20):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length" and value.isdigit() and int(value) > self.max_bytes:
                await self._too_large(scope, receive, send)
                return
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                await self.app(scope, _replay([message], receive), send)
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._too_large(scope, receive, send)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        path = self._non_finite(scope, body)
        if path is not None:
            detail = [{"loc": ["body", *path], "type": "finite_number",
                       "msg": "must be a finite number (NaN, Infinity and numbers beyond a float are refused)"}]
            await JSONResponse({"detail": detail}, 422)(scope, receive, send)
            return
        await self.app(scope, _replay([{"type": "http.request", "body": body, "more_body": False}], receive), send)

    @staticmethod
    def _non_finite(scope: Scope, body: bytes) -> list[str | int] | None:
        if not body or not _is_json(scope):
            return None
        try:
            return non_finite_path(json.loads(body))
        except Exception:  # noqa: BLE001 - not JSON (or too deep): the route answers that
            return None

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        text = f"the request body is larger than {self.max_bytes} bytes"
        await JSONResponse({"detail": text}, 413, headers={"Connection": "close"})(scope, receive, send)


def _replay(messages: list[Message], receive: Receive) -> Receive:
    """A ``receive`` that hands out ``messages`` first, then whatever the client sends next."""
    pending = list(messages)

    async def replayed() -> Message:
        return pending.pop(0) if pending else await receive()

    return replayed

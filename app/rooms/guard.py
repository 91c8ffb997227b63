"""Guess the rule: a run whose rule a room hides answers only its owner, everywhere, until the reveal.

The room's audience never gets the hidden run's id (app/rooms/room.py, ``shown_view``); it follows the run
through the room's relay, which names nothing of the rule (app/rooms/relay.py). This middleware closes the
other doors for anyone who learns the id some other way: every path of the run — ``/api/runs/{id}`` and below
(summary, history, export, keyframes, frames, reopen), ``/replay/{id}`` and the watch socket ``/ws/runs/{id}`` —
answers exactly as for a run that does not exist (404 ``no run with id …``; the socket closes 4404) unless the
request carries the owner's token (``Authorization: Bearer``) or the room's presenter cookie. The presenter's
token *is* the run's owner token: the room starts the run for the presenter.
"""

from __future__ import annotations

import re
from typing import Any, Callable

import orjson
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send

from app.owners import bearer_token, is_owner
from app.rooms import access

RUN_PATH = re.compile(r"^/(?:api/runs|ws/runs|replay)/([A-Za-z0-9_-]+)(?:/|$)")


class HiddenRuns:
    def __init__(self, app: ASGIApp, rooms: Callable[[HTTPConnection], Any]):
        self.app = app
        self.rooms = rooms

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        match = RUN_PATH.match(scope.get("path", "")) if scope["type"] in ("http", "websocket") else None
        if match is None or not self._hidden_from(scope, match.group(1)):
            await self.app(scope, receive, send)
            return
        message = f"no run with id {match.group(1)!r}"
        if scope["type"] == "websocket":
            await receive()  # websocket.connect
            await send({"type": "websocket.accept"})
            await send({"type": "websocket.close", "code": 4404, "reason": message[:120]})
            return
        body = orjson.dumps({"detail": message})
        await send({"type": "http.response.start", "status": 404,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    def _hidden_from(self, scope: Scope, run_id: str) -> bool:
        conn = HTTPConnection(scope)
        if getattr(conn.app.state, "store", None) is None:
            return False  # not started (no rooms can exist yet)
        room = self.rooms(conn).hidden_runs().get(run_id)
        if room is None:
            return False
        token = bearer_token(conn.headers.get("authorization")) or conn.cookies.get(access.presenter_cookie(room.code))
        return not is_owner(room.presenter, token)

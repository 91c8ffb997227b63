"""The websocket of one run: ``/ws/runs/{run_id}`` (docs/protocol.md, "WebSocket").

Anyone with the link may watch. Controls need the owner's token (app/owners.py): in the control message
(``"token"``), once per connection (``{"type": "auth", "token": ...}``, answered ``{"type": "auth", "owner": b}``),
or as ``Authorization: Bearer`` on the handshake (not from browsers). Handshakes from other web pages are refused
(app/origins.py).
"""

from __future__ import annotations

from fastapi import APIRouter, WebSocket, status

from app.deps import ManagerDep, SettingsDep
from app.origins import origin_allowed
from app.owners import bearer_token, is_owner
from app.protocol import AuthMessage, AuthReply, ControlMessage, ErrorMessage, dumps

router = APIRouter()

#: Close code for an unknown run id (4000-4999 are the application's own).
UNKNOWN_RUN = 4404

FORBIDDEN = ("only the run's owner can control it; this is a watch link "
             '(the owner sends {"type": "auth", "token": <owner_token>} first)')


@router.websocket("/ws/runs/{run_id}")
async def watch_run(websocket: WebSocket, run_id: str, manager: ManagerDep, settings: SettingsDep) -> None:
    """Stream a run to one viewer: hello (with history), then status, metrics and snapshot frames."""
    headers = websocket.headers
    if not origin_allowed(headers.get("origin"), headers.get("host"), websocket.url.scheme,
                          settings.allowed_origins):
        await websocket.close(status.WS_1008_POLICY_VIOLATION, "this page's origin may not open the lab's sockets")
        return  # closed before accept: the browser sees HTTP 403
    await websocket.accept()
    run = manager.get(run_id)
    if run is None:
        await websocket.close(UNKNOWN_RUN, f"no run with id {run_id!r}"[:120])
        return
    owner = is_owner(run.owner, bearer_token(headers.get("authorization")))

    async def on_message(message: ControlMessage | AuthMessage) -> str | None:
        nonlocal owner
        if isinstance(message, AuthMessage):
            owner = is_owner(run.owner, message.token)
            return dumps(AuthReply(owner=owner).model_dump())
        allowed = is_owner(run.owner, message.token) if message.token is not None else owner
        if not allowed:
            return dumps(ErrorMessage(message=FORBIDDEN, code="forbidden").model_dump())
        problem = await manager.handle_ws_control(run, message)
        return None if problem is None else dumps(ErrorMessage(message=problem, code="conflict").model_dump())

    await run.hub.serve(websocket, on_message)

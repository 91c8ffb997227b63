"""The websocket of one run: ``/ws/runs/{run_id}`` (docs/protocol.md, "WebSocket")."""

from __future__ import annotations

from fastapi import APIRouter, WebSocket

from app.deps import ManagerDep
from app.protocol import ControlMessage

router = APIRouter()

#: Close code for an unknown run id (4000-4999 are the application's own).
UNKNOWN_RUN = 4404


@router.websocket("/ws/runs/{run_id}")
async def watch_run(websocket: WebSocket, run_id: str, manager: ManagerDep) -> None:
    """Stream a run to one viewer: hello (with history), then status, metrics and snapshot frames."""
    await websocket.accept()
    run = manager.get(run_id)
    if run is None:
        await websocket.close(UNKNOWN_RUN, f"no run with id {run_id!r}"[:120])
        return

    async def on_control(message: ControlMessage) -> str | None:
        return await manager.handle_ws_control(run, message)

    await run.hub.serve(websocket, on_control)

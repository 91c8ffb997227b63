"""Saved runs: replay a run from its keyframes, reopen any keyframe as a new run, share or delete a run
(docs/protocol.md, "Saved runs").

Anyone with a run's link may look (keyframes, frames) and reopen it as their own new run, as a watcher may start
their own copy; only the owner may delete it or list it publicly.
"""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, HTTPException, Response, status
from pydantic import BaseModel, ConfigDict, Field

from app.deps import ManagerDep
from app.owners import OPTIONAL_TOKEN, TokenDep, digest, mint, require_owner
from app.protocol import RunInfo, encode_snapshot, snapshot_arrays
from app.routes.api import BAD_JSON, BUSY, NOT_A_TOKEN, NOT_FOUND, NOT_OWNER, TOO_LARGE, CreatedRun, find_run
from app.runs.keyframes import trainer_at
from app.runs.manager import LimitExceeded
from engine.spec import parse_spec

router = APIRouter(prefix="/api", tags=["api"])


class Keyframes(BaseModel):
    steps: list[int]
    """The updates after which the run's training state was kept (0 = the initial weights), ascending."""
    step: int
    """The run's current update."""


class Reopen(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    step: int = Field(ge=0, description="Reopen at the latest keyframe at or before this update.")


class Sharing(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    public: bool = Field(description="List the run for everyone, not only for its owner.")


NO_KEYFRAME = {404: {"description": "No run has this id, or it has no keyframe at or before that step."}}


async def _keyframe(manager, run_id: str, step: int) -> tuple[int, bytes]:  # noqa: ANN001
    found = await asyncio.to_thread(manager.store.load_keyframe, run_id, step)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"run {run_id!r} has no keyframe at or before step {step}")
    return found


@router.get("/runs/{run_id}/keyframes", response_model=Keyframes, responses=NOT_FOUND)
async def keyframes(run_id: str, manager: ManagerDep) -> Keyframes:
    """The steps a replay can show exactly (the weights and the example trial as they were)."""
    run = find_run(manager, run_id)
    return Keyframes(steps=await asyncio.to_thread(manager.store.keyframe_steps, run_id), step=run.step)


@router.get("/runs/{run_id}/frames/{step}", responses={**NO_KEYFRAME, 200: {
    "content": {"application/octet-stream": {}},
    "description": "A binary snapshot frame (docs/protocol.md) of the latest keyframe at or before ``step``; the "
                   "header X-Keyframe-Step says which."}})
async def frame(run_id: str, step: int, manager: ManagerDep) -> Response:
    """The weights, their change since the start and the example trial at a keyframe: the same frame a live viewer
    gets, so a replay draws it with the live charts."""
    run = find_run(manager, run_id)
    at, data = await _keyframe(manager, run_id, step)

    def build() -> bytes:
        trainer = trainer_at(run.spec, data, [])
        snap = trainer.snapshot()
        snap["step"] = at
        meta, arrays = snapshot_arrays(snap)
        return encode_snapshot(at, meta, arrays)

    return Response(await asyncio.to_thread(build), media_type="application/octet-stream",
                    headers={"X-Keyframe-Step": str(at)})


@router.post("/runs/{run_id}/reopen", status_code=status.HTTP_201_CREATED, response_model=CreatedRun,
             responses={**BAD_JSON, **TOO_LARGE, **NO_KEYFRAME, **NOT_A_TOKEN, **BUSY}, openapi_extra=OPTIONAL_TOKEN)
async def reopen(run_id: str, body: Reopen, manager: ManagerDep, token: TokenDep) -> CreatedRun:
    """A new run that starts where this one was at a keyframe (its weights, optimizer state and history up to
    there) and belongs to the caller, like ``POST /api/runs``; Play trains it on exactly as the original went."""
    run = find_run(manager, run_id)
    at, data = await _keyframe(manager, run_id, body.step)
    records = [r for r in await asyncio.to_thread(manager.store.read_records, run_id, at) if r["step"] <= at]
    token = token or mint()
    try:
        new = await manager.create(parse_spec(run.spec), owner=digest(token), start=(records, data))
    except LimitExceeded as err:
        raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS, str(err)) from None
    return CreatedRun(**new.info().model_dump(), owner_token=token)


@router.patch("/runs/{run_id}", response_model=RunInfo,
              responses={**BAD_JSON, **TOO_LARGE, **NOT_FOUND, **NOT_A_TOKEN, **NOT_OWNER},
              openapi_extra=OPTIONAL_TOKEN)
async def share(run_id: str, body: Sharing, manager: ManagerDep, token: TokenDep) -> RunInfo:
    """List the run publicly, or stop (owner only)."""
    run = find_run(manager, run_id)
    require_owner(run.owner, token)
    run.public = body.public
    manager.changed(run)
    return run.info()


@router.delete("/runs/{run_id}", status_code=status.HTTP_204_NO_CONTENT,
               responses={**NOT_FOUND, **NOT_A_TOKEN, **NOT_OWNER}, openapi_extra=OPTIONAL_TOKEN)
async def delete(run_id: str, manager: ManagerDep, token: TokenDep) -> Response:
    """Delete the run and everything kept for it: records, checkpoint, keyframes (owner only; cannot be undone)."""
    run = find_run(manager, run_id)
    require_owner(run.owner, token)
    manager.delete(run)
    return Response(status_code=status.HTTP_204_NO_CONTENT)

"""Paging a run's metric history: ``GET /api/runs/{id}/history?start=&stop=&limit=`` (docs/protocol.md, "History").

A viewer's hello carries the history thinned to a few thousand points; this returns the records themselves, a page
at a time, for any step range (long runs keep their older records thinned in memory: see app.runs.history).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Response, status
from pydantic import BaseModel

from app.deps import ManagerDep
from app.protocol import Record, dumps
from app.runs.history import page

router = APIRouter(prefix="/api", tags=["api"])

#: Most records one page may carry.
MAX_PAGE = 5000


class HistoryPage(BaseModel):
    records: list[Record]
    next: int | None
    """The step to ask for next (``start=next``), or null when the range has no more records."""
    total: int
    """Records the server keeps for this run."""


class NoRun(BaseModel):
    detail: str


@router.get("/runs/{run_id}/history", response_model=HistoryPage,
            responses={404: {"model": NoRun, "description": "No run has this id."}})
async def run_history(run_id: str, manager: ManagerDep,
                      start: Annotated[int, Query(ge=0, description="First step (inclusive).")] = 0,
                      stop: Annotated[int | None, Query(ge=0, description="Last step (exclusive).")] = None,
                      limit: Annotated[int, Query(ge=1, le=MAX_PAGE, description="Most records.")] = MAX_PAGE,
                      ) -> Response:
    """``{"records": [...], "next": step or null, "total": records kept}``: the records with start ≤ step < stop,
    at most ``limit``; ask again from ``next`` for the rest."""
    run = manager.get(run_id)
    if run is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no run with id {run_id!r}")
    records, next_step = page(run.history, start, stop, limit)
    return Response(dumps({"records": records, "next": next_step, "total": len(run.history)}),
                    media_type="application/json")

"""``POST /api/estimate``: what a run would cost before it starts — the cost keys of a run's snapshot (CONTRACT §2)
with ``ms_per_update`` estimated rather than measured, plus ``slow`` (more than a second per update).

Nothing is trained; a spec the engine refuses gets the same 422 as ``POST /api/runs`` (its ``loc`` names the
setting), so the page can say what is wrong before Play.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from app.routes.api import BAD_JSON, TOO_LARGE, bad_input
from engine.config import SettingError, describe_validation_error
from engine.estimate import estimate
from engine.registry import UnknownName
from engine.spec import Incompatible, RunSpec

router = APIRouter(prefix="/api", tags=["api"])


@router.post("/estimate", responses={**BAD_JSON, **TOO_LARGE})
async def estimate_run(spec: RunSpec, request: Request) -> dict[str, Any]:
    """Estimated cost of a spec: memory split into fixed and per-step parts, time per update, and ``slow``."""
    try:
        RunSpec.model_validate(await request.json(), strict=True)
    except ValidationError as err:
        bad_input(describe_validation_error("spec", err, RunSpec))
    try:
        # Building the pieces can take a while for a big network: off the event loop.
        return await run_in_threadpool(estimate, spec)
    except (UnknownName, Incompatible, SettingError) as err:
        bad_input(err)

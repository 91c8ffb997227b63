"""Comparisons and sweeps: ``/api/comparisons`` (members are runs: watch each at ``/ws/runs/{run_id}``),
``/api/sweeps`` (points streamed as server-sent events as they finish), their controls and their pages.
See :mod:`app.comparisons`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, HTTPException, Request, status
from fastapi.responses import HTMLResponse, Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, ValidationError
from starlette.requests import HTTPConnection

from app.comparisons.comparison import Comparison
from app.comparisons.registry import Comparisons
from app.comparisons.sweeps import Sweep, Sweeps
from app.owners import OPTIONAL_TOKEN, TokenDep, digest, mint, require_owner
from app.protocol import dumps
from app.routes.api import BAD_JSON, BUSY, CONFLICT, NOT_A_TOKEN, NOT_OWNER, TOO_LARGE, ErrorDetail, bad_input
from app.routes.pages import page_data, templates
from app.runs.controls import Conflict
from app.runs.limits import LimitExceeded
from engine.compare import ComparisonSpec, SweepSpec
from engine.config import ConfigModel, SettingError, describe_validation_error

router = APIRouter(tags=["comparisons"])

NO_COMPARISON = {404: {"model": ErrorDetail, "description": "No comparison has this id."}}
NO_SWEEP = {404: {"model": ErrorDetail, "description": "No sweep has this id."}}


def get_comparisons(conn: HTTPConnection) -> Comparisons:
    return conn.app.state.comparisons


ComparisonsDep = Annotated[Comparisons, Depends(get_comparisons)]


def get_sweeps(conn: HTTPConnection) -> Sweeps:
    return conn.app.state.sweeps


SweepsDep = Annotated[Sweeps, Depends(get_sweeps)]


class ComparisonControl(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    action: Literal["play", "pause", "stop"]
    """Play or pause every member (lock-step: the waves), or stop them all for good."""


def find(comparisons: Comparisons, cmp_id: str) -> Comparison:
    comparison = comparisons.get(cmp_id)
    if comparison is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no comparison with id {cmp_id!r}")
    return comparison


def strict(model: type[ConfigModel], body: Any) -> None:
    """Validate once more with JSON types exactly (no "yes" for true, no "5" for 5), as ``POST /api/runs``."""
    try:
        model.model_validate(body, strict=True)
    except ValidationError as err:
        bad_input(describe_validation_error("", err, model))


def answer(data: dict[str, Any], code: int = 200) -> Response:
    return Response(dumps(data), status_code=code, media_type="application/json")


@router.post("/api/comparisons", status_code=status.HTTP_201_CREATED,
             responses={**BAD_JSON, **NOT_A_TOKEN, **TOO_LARGE, **BUSY}, openapi_extra=OPTIONAL_TOKEN)
async def create_comparison(spec: ComparisonSpec, request: Request, comparisons: ComparisonsDep,
                            token: TokenDep) -> Response:
    """Create a comparison: two to six member runs on the base's task and seed, paused at step 0 until play.
    Answers the comparison (as ``GET``) and, once, the ``owner_token`` that controls it and its members."""
    strict(ComparisonSpec, await request.json())
    token = token or mint()
    try:
        comparison = await comparisons.create(spec, digest(token))
    except SettingError as err:
        bad_input(err)
    except LimitExceeded as err:
        raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS, str(err)) from None
    return answer({**comparison.detail(), "owner_token": token}, status.HTTP_201_CREATED)


@router.get("/api/comparisons/{cmp_id}", responses=NO_COMPARISON)
async def get_comparison(cmp_id: str, comparisons: ComparisonsDep) -> Response:
    """The comparison: mode, members (their run info), the table and the winner so far. Public: a link watches."""
    return answer(find(comparisons, cmp_id).detail())


@router.post("/api/comparisons/{cmp_id}/control",
             responses={**BAD_JSON, **NOT_A_TOKEN, **NOT_OWNER, **NO_COMPARISON, **CONFLICT, **BUSY})
async def control_comparison(cmp_id: str, control: Annotated[ComparisonControl, Body()],
                             comparisons: ComparisonsDep, token: TokenDep) -> Response:
    """Play, pause or stop the comparison; only its owner may (``Authorization: Bearer <owner_token>``)."""
    comparison = find(comparisons, cmp_id)
    require_owner(comparison.owner, token)
    try:
        comparisons.control(comparison, control.action)
    except Conflict as err:
        raise HTTPException(status.HTTP_409_CONFLICT, str(err)) from None
    except LimitExceeded as err:
        raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS, str(err)) from None
    return answer(comparison.detail())


class SweepControl(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    action: Literal["stop"]
    """Stop after the runs under way; the points so far stay."""


def find_sweep(sweeps: Sweeps, sweep_id: str) -> Sweep:
    sw = sweeps.get(sweep_id)
    if sw is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no sweep with id {sweep_id!r}")
    return sw


@router.post("/api/sweeps", status_code=status.HTTP_201_CREATED,
             responses={**BAD_JSON, **NOT_A_TOKEN, **TOO_LARGE, **BUSY}, openapi_extra=OPTIONAL_TOKEN)
async def create_sweep(spec: SweepSpec, request: Request, sweeps: SweepsDep, token: TokenDep) -> Response:
    """Start a sweep: one setting over its values for each rule, each point the mean final accuracy over the
    seeds. Answers the sweep and, once, its ``owner_token``; follow the points at ``/api/sweeps/{id}/events``."""
    strict(SweepSpec, await request.json())
    token = token or mint()
    try:
        sw = sweeps.create(spec, digest(token))
    except SettingError as err:
        bad_input(err)
    except LimitExceeded as err:
        raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS, str(err)) from None
    return answer({**sw.detail(), "owner_token": token}, status.HTTP_201_CREATED)


@router.get("/api/sweeps/{sweep_id}", responses=NO_SWEEP)
async def get_sweep(sweep_id: str, sweeps: SweepsDep) -> Response:
    """The sweep: status, the points finished so far (in the order they finished) and the lines."""
    return answer(find_sweep(sweeps, sweep_id).detail())


@router.get("/api/sweeps/{sweep_id}/events", responses=NO_SWEEP)
async def sweep_events(sweep_id: str, sweeps: SweepsDep) -> StreamingResponse:
    """Server-sent events: ``point`` for every point so far and each new one as it finishes, then ``end``."""
    sw = find_sweep(sweeps, sweep_id)

    async def stream() -> Any:
        async for point in sweeps.events(sw):
            yield f"event: point\ndata: {dumps(point)}\n\n"
        yield f"event: end\ndata: {dumps({'status': sw.status, 'message': sw.message})}\n\n"

    return StreamingResponse(stream(), media_type="text/event-stream", headers={"Cache-Control": "no-store"})


@router.post("/api/sweeps/{sweep_id}/control", responses={**BAD_JSON, **NOT_A_TOKEN, **NOT_OWNER, **NO_SWEEP})
async def control_sweep(sweep_id: str, control: Annotated[SweepControl, Body()], sweeps: SweepsDep,
                        token: TokenDep) -> Response:
    """Stop the sweep (owner only)."""
    sw = find_sweep(sweeps, sweep_id)
    require_owner(sw.owner, token)
    sw.stop.set()
    return answer(sw.detail())


@router.get("/sweep/{sweep_id}", response_class=HTMLResponse, include_in_schema=False)
def sweep_page(request: Request, sweep_id: str) -> Response:
    """One sweep: final accuracy against the setting, one line per rule, filled in as points finish."""
    return templates().TemplateResponse(request, "compare.html", {"page_data": page_data(),
                                                                  "comparison_id": sweep_id, "kind": "sweep"})


@router.get("/compare", response_class=HTMLResponse, include_in_schema=False)
@router.get("/compare/{cmp_id}", response_class=HTMLResponse, include_in_schema=False)
def compare_page(request: Request, cmp_id: str | None = None) -> Response:
    """The compare page: a form that makes a comparison, or one comparison's overlaid curves and table."""
    return templates().TemplateResponse(request, "compare.html", {"page_data": page_data(),
                                                                  "comparison_id": cmp_id or "", "kind": "compare"})

"""Comparisons: ``POST /api/comparisons``, ``GET /api/comparisons/{id}``, its controls, and its page.

A comparison's members are runs (watch each at ``/ws/runs/{run_id}``); see :mod:`app.comparisons`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, HTTPException, Request, status
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, ConfigDict, ValidationError
from starlette.requests import HTTPConnection

from app.comparisons.comparison import Comparison
from app.comparisons.registry import Comparisons
from app.deps import SettingsDep
from app.owners import OPTIONAL_TOKEN, TokenDep, digest, mint, require_owner
from app.protocol import dumps
from app.routes.api import BAD_JSON, BUSY, CONFLICT, NOT_A_TOKEN, NOT_OWNER, TOO_LARGE, bad_input
from app.routes.pages import page_data, templates
from app.runs.controls import Conflict
from app.runs.limits import LimitExceeded
from engine.compare import ComparisonSpec
from engine.config import ConfigModel, SettingError, describe_validation_error

router = APIRouter(tags=["comparisons"])


def get_comparisons(conn: HTTPConnection) -> Comparisons:
    return conn.app.state.comparisons


ComparisonsDep = Annotated[Comparisons, Depends(get_comparisons)]


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


@router.get("/api/comparisons/{cmp_id}")
async def get_comparison(cmp_id: str, comparisons: ComparisonsDep) -> Response:
    """The comparison: mode, members (their run info), the table and the winner so far. Public: a link watches."""
    return answer(find(comparisons, cmp_id).detail())


@router.post("/api/comparisons/{cmp_id}/control",
             responses={**BAD_JSON, **NOT_A_TOKEN, **NOT_OWNER, **CONFLICT, **BUSY})
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


@router.get("/compare", response_class=HTMLResponse, include_in_schema=False)
@router.get("/compare/{cmp_id}", response_class=HTMLResponse, include_in_schema=False)
def compare_page(request: Request, settings: SettingsDep, cmp_id: str | None = None) -> Response:
    """The compare page: a form that makes a comparison, or one comparison's overlaid curves and table."""
    return templates().TemplateResponse(request, "compare.html", {"page_data": page_data(settings),
                                                                  "comparison_id": cmp_id or "", "kind": "compare"})

"""JSON API: the catalog, trial previews, runs and their controls (docs/protocol.md, "HTTP")."""

from __future__ import annotations

from typing import Annotated, Any, Literal, NoReturn

import orjson
from fastapi import APIRouter, Body, HTTPException, Query, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from app.deps import ManagerDep
from app.owners import OPTIONAL_TOKEN, TokenDep, digest, mint, require_owner
from app.protocol import Control, RunDetail, RunInfo, dumps
from app.runs.history import thin
from app.runs.manager import Conflict, LimitExceeded, Run, RunManager
from engine.archs import ARCHS
from engine.catalog import catalog
from engine.config import ConfigModel, SettingError, build_config, describe_validation_error
from engine.registry import UnknownName
from engine.rules import RULES
from engine.spec import Incompatible, RunSpec
from engine.tasks import TASKS
from engine.training import example_trial

router = APIRouter(prefix="/api", tags=["api"])

#: Which request field each registry kind comes from.
_KIND_FIELD = {"task": "task", "architecture": "arch", "credit rule": "rule"}


class ErrorDetail(BaseModel):
    detail: str


class Period(BaseModel):
    name: str
    start: int
    stop: int


class PreviewRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    task: str = Field(description="Task name (see the catalog).")
    task_config: dict[str, Any] = Field(default_factory=dict, description="Task settings; missing ones default.")
    seed: int = Field(0, ge=0, le=2**31 - 1, description="Seed of the example trial.")


class Preview(BaseModel):
    inputs: list[list[float]]
    targets: list[list[float]]
    mask: list[float]
    periods: list[Period]
    loss_kind: str
    n_inputs: int
    n_outputs: int
    steps: int


class CreatedRun(RunInfo):
    owner_token: str
    """The owner's token: needed for every control of this run. Shown only here, once; keep it."""


class StoreHealth(BaseModel):
    failed_writes: int
    """Database writes that failed since the server started (each is also logged): runs or records lost."""
    last_error: str | None


class Health(BaseModel):
    status: Literal["ok", "degraded"]
    database: StoreHealth


def _error(code: int, text: str) -> dict[int | str, dict[str, Any]]:
    return {code: {"model": ErrorDetail, "description": text}}


BAD_JSON = _error(400, "The body is not JSON.")
NOT_FOUND = _error(404, "No run has this id.")
CONFLICT = _error(409, "The control does not fit the run's state.")
TOO_LARGE = _error(413, "The body is larger than the server accepts (max_body_bytes, 1 MB).")
NOT_A_TOKEN = _error(401, "The Authorization header holds no owner token (omit it, or send the token received).")
NOT_OWNER = _error(403, "The Authorization header does not hold the run owner's token: watchers cannot control.")
BUSY = _error(429, "Too many runs or controls: limits per owner, on the queue, or on controls per second.")


def bad_input(err: Exception) -> NoReturn:
    """Raise a 422 shaped like FastAPI's own, whose ``loc`` names the offending request field."""
    if isinstance(err, UnknownName):
        field, kind = _KIND_FIELD.get(err.kind, err.kind), "unknown_name"
    elif isinstance(err, Incompatible):
        field, kind = "rule", "incompatible"
    elif isinstance(err, SettingError):
        field, kind = err.field.removeprefix("spec."), "bad_setting"
    else:
        raise err
    loc = ["body", *[p for p in field.split(".") if p]]
    msg = err.message if isinstance(err, SettingError) else str(err)  # loc names the field: not again in msg
    raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, [{"loc": loc, "msg": msg, "type": kind}])


def find_run(manager: RunManager, run_id: str) -> Run:
    run = manager.get(run_id)
    if run is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no run with id {run_id!r}")
    return run


@router.get("/catalog")
def get_catalog() -> dict[str, Any]:
    """Every task, architecture and credit rule with its settings, and which rules train which architecture."""
    return catalog()


def check_settings_strictly(registry: Any, name: str, values: dict[str, Any], prefix: str) -> None:
    """The nested settings of a request with JSON types exactly (no 32.0 for an integer, no true for 1); an
    unknown ``name`` is left for the engine to report."""
    if name not in registry:
        return
    model: type[ConfigModel] = registry.get(name).Config
    try:
        model.model_validate_json(orjson.dumps(values), strict=True)
    except ValidationError as err:
        bad_input(describe_validation_error(prefix, err, model))


@router.post("/preview", response_model=Preview, responses={**BAD_JSON, **TOO_LARGE})
def preview(request: PreviewRequest) -> Preview:
    """One example trial of a task with the given settings (nothing is trained)."""
    check_settings_strictly(TASKS, request.task, request.task_config, "task_config")
    try:
        task_cls = TASKS.get(request.task)
        task = task_cls(build_config(task_cls.Config, request.task_config, "task_config"))
    except (UnknownName, SettingError) as err:
        bad_input(err)
    trial = example_trial(task, request.seed)  # the same trial the run will replay in its snapshots
    return Preview(
        inputs=trial.inputs[:, 0].tolist(), targets=trial.targets[:, 0].tolist(), mask=trial.mask[:, 0].tolist(),
        periods=[Period(name=p.name, start=p.start, stop=p.stop) for p in trial.periods],
        loss_kind=task.loss_kind, n_inputs=task.n_inputs, n_outputs=task.n_outputs, steps=trial.steps,
    )


@router.post("/runs", status_code=status.HTTP_201_CREATED, response_model=CreatedRun,
             responses={**BAD_JSON, **NOT_A_TOKEN, **TOO_LARGE, **BUSY}, openapi_extra=OPTIONAL_TOKEN)
async def create_run(spec: RunSpec, request: Request, manager: ManagerDep, token: TokenDep) -> CreatedRun:
    """Create a run from a spec. It starts ``queued`` and becomes ``paused`` (step 0) once its worker is ready.

    Without an ``Authorization`` header the caller becomes a new owner: the answer's ``owner_token`` is needed
    for every control and is shown only here. With ``Authorization: Bearer <token>`` the run joins that owner's."""
    try:
        # once more in strict mode: JSON types must match exactly (no true for a number, no "5" for 5)
        RunSpec.model_validate(await request.json(), strict=True)
    except ValidationError as err:
        bad_input(describe_validation_error("spec", err, RunSpec))
    for kind, registry, name, values in (("task", TASKS, spec.task, spec.task_config),
                                         ("arch", ARCHS, spec.arch, spec.arch_config),
                                         ("rule", RULES, spec.rule, spec.rule_config)):
        check_settings_strictly(registry, name, values, f"{kind}_config")
    token = token or mint()
    try:
        run = await manager.create(spec, owner=digest(token))
    except (UnknownName, Incompatible, SettingError) as err:
        bad_input(err)
    except LimitExceeded as err:
        raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS, str(err)) from None
    return CreatedRun(**run.info().model_dump(), owner_token=token)


@router.get("/runs", response_model=list[RunInfo], responses=NOT_A_TOKEN, openapi_extra=OPTIONAL_TOKEN)
async def list_runs(manager: ManagerDep, token: TokenDep,
                    public: Annotated[bool, Query(description="Also list runs their owners made public.")] = False,
                    ) -> list[RunInfo]:
    """The runs of the owner whose token is presented (``Authorization: Bearer``), oldest first, without
    histories; none without a token. With ``public=true``, also every run marked public."""
    mine = digest(token) if token is not None else None
    return [run.info() for run in manager.list() if (mine is not None and run.owner == mine) or
            (public and run.public)]


@router.get("/runs/{run_id}", response_model=RunDetail, responses=NOT_FOUND)
async def get_run(run_id: str, manager: ManagerDep) -> Response:
    """One run with its metric history thinned like the hello's (first, last, lowest losses; at most
    ``hello_points`` records; the rest is paged at ``/api/runs/{id}/history``). Public: a link watches."""
    run = find_run(manager, run_id)
    shown = thin(run.history, manager.settings.hello_points)
    return Response(dumps({**run.info().model_dump(), "history": shown, "history_complete": len(shown) ==
                           len(run.history), "history_total": len(run.history)}), media_type="application/json")


@router.post("/runs/{run_id}/control", response_model=RunInfo,
             responses={**BAD_JSON, **NOT_A_TOKEN, **NOT_OWNER, **NOT_FOUND, **CONFLICT, **TOO_LARGE, **BUSY})
async def control_run(run_id: str, control: Annotated[Control, Body()], manager: ManagerDep,
                      token: TokenDep) -> RunInfo:
    """Play, pause, step, reset, stop, or set speed / learning rate. Only the run's owner may: send
    ``Authorization: Bearer <owner_token>``; anyone else gets 403 and nothing changes."""
    run = find_run(manager, run_id)
    require_owner(run.owner, token)
    try:
        await manager.control(run, control)
    except Conflict as err:
        raise HTTPException(status.HTTP_409_CONFLICT, str(err)) from None
    except LimitExceeded as err:
        raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS, str(err)) from None
    return run.info()


@router.get("/health", response_model=Health)
async def health(request: Request) -> Health:
    """Whether the server keeps what it should: ``degraded`` once a database write has failed (the run or the
    records it carried are then missing from the database, though still in memory until a restart)."""
    store = request.app.state.store
    failed = store.failures
    return Health(status="degraded" if failed else "ok",
                  database=StoreHealth(failed_writes=failed, last_error=store.last_error))

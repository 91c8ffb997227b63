"""JSON API: the catalog, trial previews, runs and their controls (docs/protocol.md, "HTTP")."""

from __future__ import annotations

from typing import Annotated, Any, NoReturn

from fastapi import APIRouter, Body, HTTPException, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from app.deps import ManagerDep
from app.protocol import Control, RunDetail, RunInfo, dumps
from app.runs.manager import Conflict, LimitExceeded, Run, RunManager
from engine.catalog import catalog
from engine.config import SettingError, build_config, describe_validation_error
from engine.registry import UnknownName
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


BAD_JSON = {400: {"model": ErrorDetail, "description": "The body is not JSON."}}
NOT_FOUND = {404: {"model": ErrorDetail, "description": "No run has this id."}}
CONFLICT = {409: {"model": ErrorDetail, "description": "The control does not fit the run's state."}}
TOO_MANY = {429: {"model": ErrorDetail, "description": "A per-owner or queue limit is reached."}}


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
    raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, [{"loc": loc, "msg": str(err), "type": kind}])


def find_run(manager: RunManager, run_id: str) -> Run:
    run = manager.get(run_id)
    if run is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no run with id {run_id!r}")
    return run


@router.get("/catalog")
def get_catalog() -> dict[str, Any]:
    """Every task, architecture and credit rule with its settings, and which rules train which architecture."""
    return catalog()


@router.post("/preview", response_model=Preview, responses=BAD_JSON)
def preview(request: PreviewRequest) -> Preview:
    """One example trial of a task with the given settings (nothing is trained)."""
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


@router.post("/runs", status_code=status.HTTP_201_CREATED, response_model=RunInfo, responses={**BAD_JSON, **TOO_MANY})
async def create_run(spec: RunSpec, request: Request, manager: ManagerDep) -> RunInfo:
    """Create a run from a spec. It starts ``queued`` and becomes ``paused`` (step 0) once its worker is ready."""
    try:
        # once more in strict mode: JSON types must match exactly (no true for a number, no "5" for 5)
        RunSpec.model_validate(await request.json(), strict=True)
    except ValidationError as err:
        bad_input(describe_validation_error("spec", err, RunSpec))
    try:
        run = manager.create(spec)
    except (UnknownName, Incompatible, SettingError) as err:
        bad_input(err)
    except LimitExceeded as err:
        raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS, str(err)) from None
    return run.info()


@router.get("/runs", response_model=list[RunInfo])
async def list_runs(manager: ManagerDep) -> list[RunInfo]:
    """Every run the server knows, oldest first (without histories)."""
    return [run.info() for run in manager.list()]


@router.get("/runs/{run_id}", response_model=RunDetail, responses=NOT_FOUND)
async def get_run(run_id: str, manager: ManagerDep) -> Response:
    """One run with its full metric history (encoded directly: histories can hold many thousand records)."""
    run = find_run(manager, run_id)
    return Response(dumps({**run.info().model_dump(), "history": run.history}), media_type="application/json")


@router.post("/runs/{run_id}/control", response_model=RunInfo,
             responses={**BAD_JSON, **NOT_FOUND, **CONFLICT, **TOO_MANY})
async def control_run(run_id: str, control: Annotated[Control, Body()], manager: ManagerDep) -> RunInfo:
    """Play, pause, step, reset, stop, or set speed / learning rate."""
    run = find_run(manager, run_id)
    try:
        await manager.control(run, control)
    except Conflict as err:
        raise HTTPException(status.HTTP_409_CONFLICT, str(err)) from None
    except LimitExceeded as err:
        raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS, str(err)) from None
    return run.info()

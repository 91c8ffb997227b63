"""Export a run: ``GET /api/runs/{id}/export/{file}`` for spec.json, metrics.csv, metrics.json, weights.pt and
report.html (docs/protocol.md, "Export"). What a link can watch, it can export."""

from __future__ import annotations

import asyncio
from typing import Literal

import orjson
from fastapi import APIRouter, HTTPException, Response, status

from app import export
from app.deps import ManagerDep
from app.routes.api import NOT_FOUND, find_run
from app.routes.comparisons import NO_COMPARISON, ComparisonsDep, find

router = APIRouter(prefix="/api", tags=["api"])

ExportFile = Literal["spec.json", "metrics.csv", "metrics.json", "weights.pt", "report.html"]
_TYPES = {"spec.json": "application/json", "metrics.json": "application/json", "metrics.csv": "text/csv",
          "weights.pt": "application/octet-stream", "report.html": "text/html; charset=utf-8"}


@router.get("/runs/{run_id}/export/{file}", responses={**NOT_FOUND, 200: {"description": "The file."}})
async def export_run(run_id: str, file: ExportFile, manager: ManagerDep) -> Response:
    """spec.json: the full spec (POST it to /api/runs to train the same run again); metrics.csv / metrics.json:
    every update's record at full resolution; weights.pt: the parameters at the latest keyframe
    (``torch.load(f, weights_only=True)``); report.html: a self-contained page with the run's plots."""
    run = find_run(manager, run_id)
    name = f"creditlab-{run.id}-{file}"
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    if file == "spec.json":
        body: bytes | str = orjson.dumps(run.spec, option=orjson.OPT_INDENT_2)
    elif file == "weights.pt":
        found = await asyncio.to_thread(manager.store.load_keyframe, run_id, run.step)
        if found is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"run {run_id!r} has no weights kept yet")
        headers["X-Keyframe-Step"] = str(found[0])
        body = await asyncio.to_thread(export.weights_state_dict, found[1])
    else:
        records = await asyncio.to_thread(manager.store.read_records, run_id)
        if file == "metrics.csv":
            body = export.metrics_csv(records)
        elif file == "metrics.json":
            body = orjson.dumps({"run": run.id, "spec": run.spec, "records": records})
        else:
            body = await asyncio.to_thread(export.report_html, run.info().model_dump(), records)
    return Response(body, media_type=_TYPES[file], headers=headers)


@router.get("/comparisons/{cmp_id}/export/report.html", responses={**NO_COMPARISON, 200: {"description": "The page."}})
async def export_comparison(cmp_id: str, comparisons: ComparisonsDep) -> Response:
    """A self-contained page (Plotly embedded, opens offline) with the members' curves overlaid and the table."""
    comparison = find(comparisons, cmp_id)
    detail = comparison.detail()
    body = await asyncio.to_thread(export.comparison_report_html, detail, [r.history for r in comparison.runs])
    return Response(body, media_type=_TYPES["report.html"], headers={
        "Content-Disposition": f'attachment; filename="creditlab-comparison-{comparison.id}-report.html"'})

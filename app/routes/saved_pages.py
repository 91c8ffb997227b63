"""Pages for saved runs: the list (``GET /runs``) and a run's replay (``GET /replay/{id}``)."""

from __future__ import annotations

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from app.routes.pages import templates

router = APIRouter(include_in_schema=False)


def _page(request: Request, title: str, script: str, data: dict, plots: bool) -> Response:
    text = orjson.dumps(data).decode().replace("</", "<\\/")
    return templates().TemplateResponse(request, "saved.html",
                                        {"title": title, "script": script, "data": text, "plots": plots})


@router.get("/runs", response_class=HTMLResponse)
def runs_page(request: Request) -> Response:
    """Your runs and the public ones, with replay, export, sharing and delete."""
    return _page(request, "Saved runs", "runs.js", {}, plots=False)


@router.get("/replay/{run_id}", response_class=HTMLResponse)
def replay_page(request: Request, run_id: str) -> Response:
    """A finished (or live) run, scrubbed over its whole length."""
    return _page(request, "Replay", "replay.js", {"run": run_id}, plots=True)

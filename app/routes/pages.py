"""Pages: the lab itself (``GET /``), static files and the vendored partial Plotly bundle (static/vendor/README.md)."""

from __future__ import annotations

import gzip
from functools import lru_cache
from pathlib import Path

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, Response
from fastapi.templating import Jinja2Templates
from jinja2 import TemplateNotFound

import app as app_package
from engine.catalog import catalog

router = APIRouter(include_in_schema=False)

PLOTLY_CACHE = "public, max-age=2592000"  # 30 days; the URL changes never, the file only with a plotly.js upgrade
PLOTLY_BUNDLE = "plotly-basic.min.js"  # scatter, bar and pie only: 1.2 MB to parse instead of the full 4.8 MB


def asset_dir(name: str) -> Path:
    """``app/<name>`` in an installed wheel, else ``<repo>/<name>`` in a checkout."""
    here = Path(app_package.__file__).parent
    installed = here / name
    return installed if installed.is_dir() else here.parent / name


@lru_cache(maxsize=1)
def templates() -> Jinja2Templates:
    return Jinja2Templates(directory=asset_dir("templates"))


@lru_cache(maxsize=1)
def plotly_path() -> Path:
    """The one Plotly bundle every page loads (through ``/static/vendor/plotly.min.js``): change it here only."""
    return asset_dir("static") / "vendor" / PLOTLY_BUNDLE


@lru_cache(maxsize=1)
def plotly_gzipped() -> bytes:
    return gzip.compress(plotly_path().read_bytes(), compresslevel=6)


def page_data() -> str:
    """What the page's scripts need, as JSON safe to inline in ``<script type="application/json">``."""
    return orjson.dumps({"catalog": catalog()}).decode().replace("</", "<\\/")


@router.get("/", response_class=HTMLResponse)
def index(request: Request) -> Response:
    """The lab."""
    data = page_data()
    try:
        return templates().TemplateResponse(request, "index.html", {"page_data": data})
    except TemplateNotFound:
        return HTMLResponse("<!doctype html><title>Credit Lab</title><h1>Credit Lab</h1>"
                            "<p>The page template is missing (templates/index.html).</p>")


@router.get("/static/vendor/plotly.min.js")
def plotly_js(request: Request) -> Response:
    """Plotly.js, the vendored partial bundle (static/vendor/README.md); gzipped once, then kept in memory."""
    headers = {"Cache-Control": PLOTLY_CACHE, "Vary": "Accept-Encoding"}
    if "gzip" in request.headers.get("accept-encoding", ""):
        return Response(plotly_gzipped(), media_type="text/javascript",
                        headers={**headers, "Content-Encoding": "gzip"})
    return FileResponse(plotly_path(), media_type="text/javascript", headers=headers)


@router.get("/healthz", include_in_schema=True, tags=["health"])
def healthz() -> dict[str, str]:
    """Liveness probe."""
    return {"status": "ok"}

"""Pages: the lab itself (``GET /``), static files and the vendored partial Plotly bundle (static/vendor/README.md).

The lab page opens fast (issue 10) because its ``<head>`` names everything it will need before any script runs:

* a ``<link rel="modulepreload">`` for every module of its import graph, read here from the ``import`` statements
  (:func:`module_graph`), so the browser fetches all of them at once instead of one level of imports at a time and
  the list can never go stale;
* versioned URLs (``?v=`` the first hex digits of the file's SHA-256, :func:`asset_url`) for its stylesheet, the
  Plotly bundle and every module, the modules through an import map (a relative ``import "./x.js"`` resolves to
  ``/static/js/x.js``, which the map sends to ``/static/js/x.js?v=…``). A request whose ``v`` is the file's current
  version is answered ``immutable`` for a year, so a warm load fetches nothing but the page; any other request
  (another page's unversioned import, an outdated version) gets ``no-cache`` and revalidates by its ETag.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import re
from functools import lru_cache
from pathlib import Path
from urllib.parse import parse_qs

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from jinja2 import TemplateNotFound
from starlette.types import Scope

import app as app_package
from engine.archs import ARCHS
from engine.catalog import catalog
from engine.rules import RULES
from engine.tasks import TASKS

router = APIRouter(include_in_schema=False)

IMMUTABLE = "public, max-age=31536000, immutable"  # a versioned URL: its content never changes
REVALIDATE = "no-cache"  # an unversioned URL: kept, but asked again (ETag → 304) before each use
PLOTLY_BUNDLE = "plotly-basic.min.js"  # scatter, bar and pie only: 1.2 MB to parse instead of the full 4.8 MB
PLOTLY_URL = "/static/vendor/plotly.min.js"
ENTRY = "js/app.js"  # the lab page's module, relative to static/

#: The module specifiers a file imports: ``import … from "./x.js"``, ``export … from "./x.js"``, ``import "./x.js"``
#: and ``import("./x.js")`` with a literal relative path (the only kinds the page's modules use).
IMPORT = re.compile(r"""(?:\bfrom|\bimport)\s*\(?\s*["'](\.{1,2}/[^"']+)["']""")


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


def plotly_version() -> str:
    return _version(_stat_key(plotly_path()))


def page_data() -> str:
    """What the page's scripts need, as JSON safe to inline in ``<script type="application/json">``. Built once
    per set of registries (the catalog's JSON schemas take ~0.1 s, on every page load before this cache)."""
    return _page_data(tuple(RULES), tuple(TASKS), tuple(ARCHS))


@lru_cache(maxsize=4)
def _page_data(*registries: tuple) -> str:
    return orjson.dumps({"catalog": catalog()}).decode().replace("</", "<\\/")


# -- versioned assets and the module graph ----------------------------------------------------------------------
def _stat_key(path: Path) -> tuple[str, int, int]:
    st = path.stat()
    return str(path), st.st_mtime_ns, st.st_size


@lru_cache(maxsize=512)
def _version(key: tuple[str, int, int]) -> str:
    return hashlib.sha256(Path(key[0]).read_bytes()).hexdigest()[:12]


def version(rel: str) -> str:
    """The version of ``static/<rel>``: the first 12 hex digits of its SHA-256 (recomputed when the file changes)."""
    return _version(_stat_key(asset_dir("static") / rel))


def asset_url(rel: str) -> str:
    """``/static/<rel>?v=<version>``: a URL whose content never changes."""
    return f"/static/{rel}?v={version(rel)}"


@lru_cache(maxsize=512)
def _imports(key: tuple[str, int, int]) -> tuple[str, ...]:
    return tuple(IMPORT.findall(Path(key[0]).read_text(encoding="utf-8")))


def module_graph(entry: str = ENTRY) -> list[str]:
    """Every module ``static/<entry>`` imports, directly or not, entry first (paths relative to static/).

    Read from the files' import statements on each call (each file's parse is cached until it changes), so a new
    import is preloaded without any other edit. A specifier naming a missing file is left out: the browser will
    report it."""
    static = asset_dir("static")
    seen: dict[str, None] = {}
    todo = [entry]
    while todo:
        rel = todo.pop(0)
        path = static / rel
        if rel in seen or not path.is_file():
            continue
        seen[rel] = None
        for spec in _imports(_stat_key(path)):
            target = os.path.normpath(os.path.join(os.path.dirname(rel), spec)).replace(os.sep, "/")
            if not target.startswith("../"):
                todo.append(target)
    return list(seen)


def page_assets(entry: str = ENTRY) -> dict[str, object]:
    """What the lab page's ``<head>`` names: the entry module, the module preloads, the import map that versions
    every module of the graph, and the stylesheet and Plotly URLs."""
    modules = module_graph(entry)
    urls = {f"/static/{rel}": asset_url(rel) for rel in modules}
    importmap = orjson.dumps({"imports": urls}).decode().replace("</", "<\\/")
    return {"entry": urls[f"/static/{entry}"], "preload": list(urls.values()), "importmap": importmap,
            "css": asset_url("css/app.css"), "plotly": f"{PLOTLY_URL}?v={plotly_version()}"}


class Assets(StaticFiles):
    """The static files, with the cache policy of the module docstring (ETag and 304s are StaticFiles' own)."""

    def file_response(self, full_path: os.PathLike[str] | str, stat_result: os.stat_result, scope: Scope,
                      status_code: int = 200) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        wanted = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("v", [None])[0]
        current = _version((str(full_path), stat_result.st_mtime_ns, stat_result.st_size)) if wanted else None
        response.headers["Cache-Control"] = IMMUTABLE if wanted and wanted == current else REVALIDATE
        return response


@router.api_route("/", methods=["GET", "HEAD"], response_class=HTMLResponse)
def index(request: Request) -> Response:
    """The lab."""
    data = page_data()
    try:
        return templates().TemplateResponse(request, "index.html", {"page_data": data, "assets": page_assets()})
    except TemplateNotFound:
        return HTMLResponse("<!doctype html><title>Credit Lab</title><h1>Credit Lab</h1>"
                            "<p>The page template is missing (templates/index.html).</p>")


@router.get(PLOTLY_URL)
def plotly_js(request: Request) -> Response:
    """Plotly.js, the vendored partial bundle (static/vendor/README.md); gzipped once, then kept in memory.
    ``?v=`` its current version: cached for good; otherwise revalidated by its ETag (the version)."""
    etag = f'"{plotly_version()}"'
    versioned = request.query_params.get("v") == plotly_version()
    headers = {"Cache-Control": IMMUTABLE if versioned else REVALIDATE, "Vary": "Accept-Encoding", "ETag": etag}
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    if "gzip" in request.headers.get("accept-encoding", ""):
        return Response(plotly_gzipped(), media_type="text/javascript",
                        headers={**headers, "Content-Encoding": "gzip"})
    return FileResponse(plotly_path(), media_type="text/javascript", headers=headers)


@router.get("/healthz", include_in_schema=True, tags=["health"])
def healthz() -> dict[str, str]:
    """Liveness probe."""
    return {"status": "ok"}

"""The web app: ``create_app(settings)`` builds it, ``run_server(settings)`` serves it with uvicorn.

Nothing is read at import time; the lifespan opens the database, starts the run manager, and on the way out stops
every worker and flushes the database.
"""

from __future__ import annotations

import importlib
import logging
from contextlib import asynccontextmanager
from typing import AsyncIterator

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.middleware.gzip import GZipMiddleware
from starlette.routing import Match

from app.bodies import BodyGuard
from app.comparisons.registry import Comparisons
from app.comparisons.sweeps import Sweeps
from app.rooms.guard import HiddenRuns
from app.routes import api, comparisons, estimate, export, history, lessons, pages, saved, saved_pages, ws
from app.routes import rooms as room_routes
from app.runs.checkpoints import StoredCheckpoints
from app.runs.manager import RunManager
from app.settings import Settings
from app.store import Store

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.database_url is None:
            settings.data_dir.mkdir(parents=True, exist_ok=True)
        store = Store(settings.resolved_database_url())
        manager = RunManager(settings, store, checkpoints=StoredCheckpoints(store))
        app.state.store, app.state.manager = store, manager
        app.state.comparisons, app.state.sweeps = Comparisons(manager), Sweeps(store)
        await manager.start()
        await app.state.comparisons.start()
        await app.state.sweeps.start()
        try:
            yield
        finally:
            await app.state.comparisons.close()
            await app.state.sweeps.close()
            await manager.close()
            store.close()

    for module in settings.plugins:
        importlib.import_module(module)

    app = FastAPI(title="Credit Lab", version="0.1.0", lifespan=lifespan,
                  description="Watch recurrent networks learn; see docs/protocol.md for the wire protocol.")
    app.state.settings = settings
    app.add_middleware(BodyGuard, max_bytes=settings.max_body_bytes)  # 413 / non-finite numbers, before parsing
    app.add_middleware(GZipMiddleware, minimum_size=1024)
    app.add_middleware(HiddenRuns, rooms=room_routes.get_rooms)  # guess the rule: a hidden run answers its owner only
    app.include_router(pages.router)
    app.include_router(api.router)
    app.include_router(history.router)
    app.include_router(estimate.router)
    app.include_router(saved.router)
    app.include_router(export.router)
    app.include_router(saved_pages.router)
    app.include_router(ws.router)
    app.include_router(comparisons.router)
    app.include_router(room_routes.router)
    app.include_router(lessons.router)
    app.mount("/static", pages.Assets(directory=pages.asset_dir("static"), check_dir=False), name="static")
    app.add_exception_handler(405, method_not_allowed)
    return app


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


async def method_not_allowed(request: Request, exc: Exception) -> Response:
    """405 whose ``Allow`` lists every method the path accepts (Starlette names only the first matching route's)."""
    allowed = {method for method in _METHODS for route in request.app.routes  # routers nest: ask each route
               if route.matches({**request.scope, "method": method})[0] == Match.FULL}
    return JSONResponse({"detail": "Method Not Allowed"}, 405, headers={"Allow": ", ".join(sorted(allowed))})


def run_server(settings: Settings | None = None) -> None:
    """Serve the lab with uvicorn: one process (runs live in this process's memory), no per-message deflate."""
    import uvicorn

    settings = settings or Settings()
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        workers=1,
        log_level=settings.log_level,
        ws_per_message_deflate=False,  # compression is per viewer and would defeat encode-once
        ws_max_size=settings.ws_max_size,
        ws_ping_interval=settings.ws_ping_interval,
        ws_ping_timeout=settings.ws_ping_timeout,
        timeout_graceful_shutdown=5,
    )

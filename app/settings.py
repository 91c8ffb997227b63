"""Server settings, read from the environment (prefix ``CREDITLAB_``) or passed in by the CLI and tests.

Every field has a docstring: it is the help text of the matching ``creditlab serve`` option and documents the
environment variable, e.g. ``CREDITLAB_MAX_CONCURRENT_RUNS=4``.
"""

from __future__ import annotations

import multiprocessing
import os
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


def _default_start_method() -> str:
    return "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"


class Settings(BaseSettings):
    """Everything the web server can be told. Build one per app: ``create_app(Settings(data_dir=...))``."""

    model_config = SettingsConfigDict(env_prefix="CREDITLAB_", env_file=".env", extra="ignore",
                                      use_attribute_docstrings=True)

    host: str = "127.0.0.1"
    """Interface to listen on (0.0.0.0 to serve a classroom or a container)."""
    port: int = Field(8000, ge=0, le=65535)
    """TCP port to listen on."""
    data_dir: Path = Path("data")
    """Folder for the database and anything else the server keeps between restarts."""
    database_url: str | None = None
    """SQLAlchemy URL of the database; empty means an SQLite file ``creditlab.db`` inside ``data_dir``."""
    max_concurrent_runs: int = Field(default_factory=lambda: os.cpu_count() or 1, ge=0, le=1024)
    """Runs that may hold a worker process at once (default: the number of CPU cores). Further runs wait in a
    queue and report their position. 0 starts no worker at all (every run stays queued)."""
    fps: float = Field(10.0, gt=0, le=60)
    """Most metrics messages per second and run; each carries every record since the previous one."""
    snapshot_fps: float = Field(4.0, gt=0, le=30)
    """Most snapshot frames (weights, example activity, rule signals) per second and run."""
    idle_release_s: float = Field(30.0, gt=0)
    """A paused run that nobody watches keeps its worker this many seconds, then checkpoints (weights, optimizer,
    generators, step) and gives the worker back; Play resumes it exactly where it was."""
    unwatched_pause_s: float = Field(60.0, gt=0)
    """A running run that nobody watches pauses itself after this many seconds."""
    max_runs_per_owner: int = Field(6, ge=1)
    """Most runs one owner may have queued or holding a worker at once; more is refused (HTTP 429). Six, so that
    the largest comparison (six members) fits."""
    max_queue: int = Field(20, ge=0)
    """Most runs waiting in the queue; a run that would wait behind more is refused (HTTP 429)."""
    history_cap: int = Field(50_000, ge=100)
    """Most records a run keeps in memory; past this the older part is thinned (first, last and the lowest losses
    are kept), the newest half stays complete."""
    hello_points: int = Field(2000, ge=10)
    """Most records a viewer's ``hello`` carries (thinned the same way); the rest can be paged over HTTP."""
    control_rate: float = Field(10.0, gt=0)
    """Controls per second one websocket may send (bursts up to the same number); more get an error frame."""
    max_runs_kept: int = Field(1000, ge=1)
    """Most runs kept; beyond this, creating a run forgets the creator's own oldest finished runs (never another
    owner's), and start-up forgets the oldest finished runs of anyone."""
    send_timeout_s: float = Field(10.0, gt=0)
    """A viewer whose socket accepts nothing for this long is disconnected."""
    viewer_buffer: int = Field(256, ge=4, le=100_000)
    """Metrics messages kept for a viewer that is behind; past this it is sent a fresh ``hello`` instead."""
    max_unacked_snapshots: int = Field(2, ge=1, le=64)
    """Snapshot frames a viewer may have un-acknowledged; newer ones replace older ones until it acks."""
    ws_max_size: int = Field(1 << 20, ge=1024)
    """Largest message a browser may send over the websocket, in bytes."""
    ws_ping_interval: float = Field(20.0, gt=0)
    """Seconds between websocket pings (finds viewers that vanished without closing)."""
    ws_ping_timeout: float = Field(20.0, gt=0)
    """Seconds to wait for a pong before dropping the viewer."""
    start_method: Literal["spawn", "forkserver"] = Field(default_factory=_default_start_method)
    """How worker processes start: ``forkserver`` (default on Unix; a server process that has imported torch
    once forks each worker) or ``spawn`` (a fresh interpreter per run, slower to start). Never plain fork."""
    worker_stop_timeout_s: float = Field(5.0, gt=0)
    """How long a stopping worker may take to exit before it is killed."""
    plugins: list[str] = []
    """Extra modules to import in the server and in every worker, e.g. to register third-party tasks or rules."""
    allowed_origins: Annotated[list[str], NoDecode] = []
    """Web pages (``scheme://host[:port]``, comma-separated) that may open websockets besides the server's own
    host, e.g. ``https://lab.example.org``. Handshakes from any other page are refused (HTTP 403)."""
    max_body_bytes: int = Field(1 << 20, ge=1024)
    """Largest request body accepted, in bytes; larger ones get 413 before they are read in full."""
    log_level: str = "info"
    """Log level of the server (debug, info, warning, error)."""

    @field_validator("allowed_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):  # from the environment: comma-separated
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'creditlab.db').resolve()}"

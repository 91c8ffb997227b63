"""Sweeps on the server: one sweep at a time, in a worker process, each point announced as soon as it finishes.

A sweep (:class:`~engine.compare.SweepSpec`) runs :func:`engine.sweeping.sweep` in a thread that feeds one worker
process (one torch thread), outside the run queue: its runs are short and many, and a run's worker would cost a
process start per point. It counts as one trainer, so one sweep runs at a time (a second is refused, HTTP 429,
until the first ends). Each finished point is appended to the sweep and put on every subscriber's queue (the
``/api/sweeps/{id}/events`` stream), on the event loop.

With a store, a sweep is kept in the database as it goes (app/comparisons/sweep_persist.py) and restored at
start-up with its points and owner; one that the server's stop cut short is ``interrupted``, not ``stopped``
(its owner did not stop it).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any, AsyncIterator, Literal

from app.comparisons import sweep_persist
from app.runs.limits import LimitExceeded
from app.store import Store
from engine.compare import SweepSpec, set_path
from engine.config import SettingError
from engine.registry import UnknownName
from engine.rules import RULES
from engine.spec import Incompatible, parse_spec, resolve
from engine.sweeping import lines, sweep

log = logging.getLogger(__name__)

Status = Literal["running", "done", "stopped", "error", "interrupted"]


def check_sweep(sw: SweepSpec) -> None:
    """Every point's spec resolves, or a :class:`SettingError` naming the body field: ``setting``, ``rules.i``,
    ``values.j`` or ``base.<field>``."""
    for i, rule in enumerate(sw.rules):
        try:
            RULES.get(rule)
        except UnknownName as err:
            raise SettingError(f"rules.{i}", str(err)) from None
    try:
        set_path(sw.base, sw.setting, sw.values[0])
    except SettingError as err:
        raise SettingError("setting", err.message) from None
    for j, value in enumerate(sw.values):
        for i, rule in enumerate(sw.rules):
            try:
                resolve(parse_spec(set_path(set_path(sw.base, "rule", rule), sw.setting, value)))
            except SettingError as err:
                field_path = err.field.removeprefix("spec.")
                # the same base passed with the first value: a later value's error is that value's, whatever
                # field the check names (a check across fields, e.g. a task's steps against the varied lag)
                varied = j > 0 or sw.setting.split(".")[-1] == field_path.split(".")[-1]
                where = (("setting" if err.message.startswith("unknown setting") else f"values.{j}") if varied
                         else f"base.{field_path}")
                raise SettingError(where, err.message) from None
            except Incompatible as err:
                raise SettingError(f"rules.{i}", str(err)) from None
            except UnknownName as err:
                raise SettingError(f"base.{'arch' if err.kind == 'architecture' else err.kind}", str(err)) from None


#: Why a sweep is ``interrupted`` (the page says "interrupted: k of n points — " before it).
INTERRUPTED = ("the server stopped before the sweep finished; its finished points are kept (start it again to run "
               "the rest)")


@dataclass(eq=False)
class Sweep:
    id: str
    spec: SweepSpec
    owner: str
    status: Status = "running"
    message: str | None = None
    points: list[dict[str, Any]] = field(default_factory=list)
    subscribers: set[asyncio.Queue[dict[str, Any] | None]] = field(default_factory=set)
    stop: threading.Event = field(default_factory=threading.Event)
    task: asyncio.Task[None] | None = None
    created: float = field(default_factory=time.time)

    @property
    def total(self) -> int:
        """How many points the sweep has when complete: one per (rule, value)."""
        return len(self.spec.values) * len(self.spec.rules)

    def stored(self) -> dict[str, Any]:
        """What the database keeps (app/comparisons/sweep_persist.py); ``Sweep(**stored)`` rebuilds the sweep."""
        return {"id": self.id, "spec": self.spec, "owner": self.owner, "status": self.status,
                "message": self.message, "points": self.points, "created": self.created}

    def detail(self) -> dict[str, Any]:
        return {"id": self.id, "spec": self.spec.model_dump(), "status": self.status, "message": self.message,
                "points": self.points, "lines": lines(self.spec, self.points), "created": self.created,
                "total": self.total}


class Sweeps:
    def __init__(self, store: Store | None = None) -> None:
        self.items: dict[str, Sweep] = {}
        self.store = store
        """Where sweeps are kept (None: in memory only)."""
        self.closing = False

    async def start(self) -> None:
        """Restore the stored sweeps; one stored as running (the server crashed) comes back interrupted."""
        if self.store is None:
            return
        for fields in await asyncio.to_thread(sweep_persist.load, self.store):
            sw = Sweep(**fields)
            if sw.status == "running":
                sw.status, sw.message = "interrupted", INTERRUPTED
            self.items[sw.id] = sw

    def _save(self, sw: Sweep) -> None:
        if self.store is not None:
            sweep_persist.save(self.store, sw.stored())

    def get(self, sweep_id: str) -> Sweep | None:
        return self.items.get(sweep_id)

    def create(self, spec: SweepSpec, owner: str) -> Sweep:
        """Check the spec (SettingError naming the field) and that no other sweep runs, then start it."""
        check_sweep(spec)
        busy = [s for s in self.items.values() if s.status == "running"]
        if busy:
            raise LimitExceeded("another sweep is running (this server runs one at a time): wait for it to finish")
        sw = Sweep(secrets.token_hex(6), spec, owner)
        self.items[sw.id] = sw
        self._save(sw)
        sw.task = asyncio.get_running_loop().create_task(self._run(sw))
        return sw

    async def _run(self, sw: Sweep) -> None:
        loop = asyncio.get_running_loop()

        def on_point(point: dict[str, Any]) -> None:  # on the sweep's thread
            loop.call_soon_threadsafe(self._add, sw, point)

        try:
            await asyncio.to_thread(sweep, sw.spec, 1, on_point, sw.stop.is_set, True)
            await asyncio.sleep(0)  # let the points scheduled by the thread land first
            if len(sw.points) == sw.total or not sw.stop.is_set():
                sw.status = "done"
            elif self.closing:  # the server stops, not the owner: kept as interrupted
                sw.status, sw.message = "interrupted", INTERRUPTED
            else:
                sw.status = "stopped"
        except Exception as err:  # noqa: BLE001 - a failed sweep says why; the server carries on
            log.exception("sweep %s failed", sw.id)
            await asyncio.sleep(0)
            sw.status, sw.message = "error", f"{type(err).__name__}: {err}"
        self._save(sw)
        for q in sw.subscribers:
            q.put_nowait(None)

    def _add(self, sw: Sweep, point: dict[str, Any]) -> None:
        sw.points.append(point)
        self._save(sw)
        for q in sw.subscribers:
            q.put_nowait(point)

    async def events(self, sw: Sweep) -> AsyncIterator[dict[str, Any]]:
        """Every point so far, then each new one as it finishes; ends with the sweep."""
        q: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
        sw.subscribers.add(q)
        try:
            for point in list(sw.points):
                yield point
            if sw.status != "running":
                return
            while (point := await q.get()) is not None:
                yield point
        finally:
            sw.subscribers.discard(q)

    async def close(self) -> None:
        """Stop the running sweep (it is kept as interrupted) and wait for its thread."""
        self.closing = True
        for sw in self.items.values():
            sw.stop.set()
        tasks = [s.task for s in self.items.values() if s.task is not None and not s.task.done()]
        if tasks:
            await asyncio.wait(tasks, timeout=30)

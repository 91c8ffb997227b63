"""Persistence: runs, their specs and metric histories in SQLite (WAL) or any SQLAlchemy database.

Writes never happen on the event loop: callers enqueue them (:meth:`Store.save_run`, :meth:`add_records`, ...)
and one writer thread applies everything waiting in a single transaction, so a run that streams 100 records a
second costs a handful of small commits. Reads happen once, at startup (:meth:`load`).
"""

from __future__ import annotations

import logging
import queue
import threading
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy import Float, Integer, String, Text, create_engine, delete, event, insert, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

log = logging.getLogger(__name__)


class Base(DeclarativeBase):
    pass


class RunRow(Base):
    __tablename__ = "runs"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    spec: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    speed: Mapped[float] = mapped_column(Float, default=0.0)
    message: Mapped[str | None] = mapped_column(Text, nullable=True)
    cost: Mapped[str | None] = mapped_column(Text, nullable=True)
    created: Mapped[float] = mapped_column(Float)
    updated: Mapped[float] = mapped_column(Float)


class RecordRow(Base):
    __tablename__ = "records"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(String(32), index=True)
    step: Mapped[int] = mapped_column(Integer)
    data: Mapped[str] = mapped_column(Text)


@dataclass
class StoredRun:
    id: str
    spec: dict[str, Any]
    status: str
    speed: float
    message: str | None
    cost: dict[str, Any] | None
    created: float
    updated: float
    history: list[dict[str, Any]] = field(default_factory=list)


def _sqlite_pragmas(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA busy_timeout=5000")  # first: switching to WAL can itself meet a busy database
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()


_STOP = object()


class Store:
    """The database plus its writer thread. Call :meth:`close` to flush and stop."""

    def __init__(self, url: str):
        self.engine = create_engine(url)
        if self.engine.dialect.name == "sqlite":
            _sqlite_pragmas(self.engine)
        Base.metadata.create_all(self.engine)
        self._ops: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._write_loop, name="creditlab-store", daemon=True)
        self._thread.start()

    # -- reads (startup only) -----------------------------------------------------------------------------------
    def load(self) -> list[StoredRun]:
        with self.engine.connect() as conn:
            runs = {r.id: StoredRun(r.id, orjson.loads(r.spec), r.status, r.speed, r.message,
                                    orjson.loads(r.cost) if r.cost else None, r.created, r.updated)
                    for r in conn.execute(select(RunRow.__table__).order_by(RunRow.created))}
            rows = conn.execute(select(RecordRow.run_id, RecordRow.data)
                                .order_by(RecordRow.run_id, RecordRow.step, RecordRow.id))
            for run_id, data in rows:
                if run_id in runs:
                    runs[run_id].history.append(orjson.loads(data))
        return list(runs.values())

    # -- writes (queued) ----------------------------------------------------------------------------------------
    def save_run(self, run: StoredRun) -> None:
        """Insert or update the run's row (not its history)."""
        self._ops.put(("save", {
            "id": run.id, "spec": orjson.dumps(run.spec).decode(), "status": run.status, "speed": run.speed,
            "message": run.message, "cost": orjson.dumps(run.cost).decode() if run.cost is not None else None,
            "created": run.created, "updated": run.updated,
        }))

    def add_records(self, run_id: str, records: list[dict[str, Any]]) -> None:
        self._ops.put(("records", [{"run_id": run_id, "step": r["step"], "data": orjson.dumps(r).decode()}
                                   for r in records]))

    def clear_records(self, run_id: str) -> None:
        self._ops.put(("clear", run_id))

    def delete_run(self, run_id: str) -> None:
        self._ops.put(("delete", run_id))

    def flush(self, timeout: float = 10.0) -> bool:
        """Block until everything enqueued so far is written (tests, shutdown)."""
        done = threading.Event()
        self._ops.put(("flush", done))
        return done.wait(timeout)

    def close(self) -> None:
        self._ops.put(_STOP)
        self._thread.join(timeout=30)
        self.engine.dispose()

    def _write_loop(self) -> None:
        while True:
            batch = [self._ops.get()]
            while True:
                try:
                    batch.append(self._ops.get_nowait())
                except queue.Empty:
                    break
            stop = any(op is _STOP for op in batch)
            ops = [op for op in batch if op is not _STOP]
            try:
                self._apply([op for op in ops if op[0] != "flush"])
            except Exception:  # noqa: BLE001 - a failed write must not end the writer
                log.exception("database write failed; %d operations lost", len(ops))
            for kind, arg in ops:
                if kind == "flush":
                    arg.set()
            if stop:
                return

    def _apply(self, ops: list[Any]) -> None:
        with self.engine.begin() as conn:
            for kind, arg in ops:
                if kind == "save":
                    exists = conn.execute(select(RunRow.id).where(RunRow.id == arg["id"])).first()
                    if exists:
                        conn.execute(RunRow.__table__.update().where(RunRow.id == arg["id"]).values(**arg))
                    else:
                        conn.execute(insert(RunRow.__table__).values(**arg))
                elif kind == "records" and arg:
                    conn.execute(insert(RecordRow.__table__), arg)
                elif kind == "clear":
                    conn.execute(delete(RecordRow.__table__).where(RecordRow.run_id == arg))
                elif kind == "delete":
                    conn.execute(delete(RecordRow.__table__).where(RecordRow.run_id == arg))
                    conn.execute(delete(RunRow.__table__).where(RunRow.id == arg))

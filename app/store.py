"""Persistence: runs, their specs and metric histories in SQLite (WAL) or any SQLAlchemy database.

Writes never happen on the event loop: callers enqueue them (:meth:`Store.save_run`, :meth:`add_records`, ...)
and one writer thread applies everything waiting in a single transaction, so a run that streams 100 records a
second costs a handful of small commits. If that transaction fails, each operation is retried alone, so one bad
write loses only itself; what still fails is counted in :attr:`Store.failures` (and logged), for ``/api/health``.
Reads happen once, at startup (:meth:`load`), and off the event loop for checkpoints, keyframes and full histories
(replay and export).

The schema is versioned and upgraded in place when the store opens (:mod:`app.migrations`); the models below are
the latest version.
"""

from __future__ import annotations

import logging
import queue
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import orjson
from sqlalchemy import (Float, Integer, LargeBinary, String, Text, create_engine, delete, event, insert, select,
                        update)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from app import migrations

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
    owner: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    """SHA-256 (hex) of the owner's token; null for runs made before owners existed (watch-only)."""
    public: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    """1: listed for everyone (GET /api/runs?public=true), not only for its owner."""


class RecordRow(Base):
    __tablename__ = "records"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(String(32), index=True)
    step: Mapped[int] = mapped_column(Integer)
    data: Mapped[str] = mapped_column(Text)


class CheckpointRow(Base):
    __tablename__ = "checkpoints"
    run_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    step: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created: Mapped[float] = mapped_column(Float)


class KeyframeRow(Base):
    __tablename__ = "keyframes"
    run_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    step: Mapped[int] = mapped_column(Integer, primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created: Mapped[float] = mapped_column(Float)


class RoomRow(Base):
    """A classroom room (app/rooms/); its join code is its key."""
    __tablename__ = "rooms"
    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    title: Mapped[str] = mapped_column(Text)
    password: Mapped[str | None] = mapped_column(String(160), nullable=True)
    """``salt$hash`` (PBKDF2-SHA256, hex) of the room's password; null: anyone with the code may join."""
    presenter: Mapped[str] = mapped_column(String(64))
    """SHA-256 (hex) of the presenter's token."""
    shown: Mapped[str | None] = mapped_column(Text, nullable=True)
    """What the room shows (JSON, app/rooms/models.py ``Shown``); null: nothing yet."""
    created: Mapped[float] = mapped_column(Float)


class PollRow(Base):
    __tablename__ = "polls"
    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    room: Mapped[str] = mapped_column(String(16), index=True)
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    question: Mapped[str] = mapped_column(Text)
    config: Mapped[str] = mapped_column(Text)
    """The poll as created (JSON: its kind's fields)."""
    state: Mapped[str] = mapped_column(String(16))
    revealed: Mapped[int] = mapped_column(Integer)
    answer: Mapped[str | None] = mapped_column(Text, nullable=True)
    created: Mapped[float] = mapped_column(Float)


class VoteRow(Base):
    """One participant's vote in one poll (the key makes a second vote replace the first)."""
    __tablename__ = "votes"
    poll: Mapped[str] = mapped_column(String(16), primary_key=True)
    participant: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    created: Mapped[float] = mapped_column(Float)


class ComparisonRow(Base):
    """A comparison (app/comparisons/): its spec and its member runs' ids, in order."""
    __tablename__ = "comparisons"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    owner: Mapped[str] = mapped_column(String(64))
    spec: Mapped[str] = mapped_column(Text)
    labels: Mapped[str] = mapped_column(Text)
    runs: Mapped[str] = mapped_column(Text)
    mode: Mapped[str] = mapped_column(String(16))
    target: Mapped[float] = mapped_column(Float)
    message: Mapped[str | None] = mapped_column(Text, nullable=True)
    created: Mapped[float] = mapped_column(Float)


class SweepRow(Base):
    """A sweep (app/comparisons/sweeps.py): its spec, status and the points finished so far (JSON, in order)."""
    __tablename__ = "sweeps"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    owner: Mapped[str] = mapped_column(String(64))
    spec: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    message: Mapped[str | None] = mapped_column(Text, nullable=True)
    points: Mapped[str] = mapped_column(Text)
    created: Mapped[float] = mapped_column(Float)


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
    owner: str | None = None
    public: bool = False


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
        with self.engine.begin() as conn:
            migrations.upgrade(conn)
        self.failures = 0
        """Operations that could not be written (each also logged); ``last_error`` says why the latest failed."""
        self.last_error: str | None = None
        self._ops: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._write_loop, name="creditlab-store", daemon=True)
        self._thread.start()

    # -- reads (startup only) -----------------------------------------------------------------------------------
    def load(self) -> list[StoredRun]:
        with self.engine.connect() as conn:
            runs = {r.id: StoredRun(r.id, orjson.loads(r.spec), r.status, r.speed, r.message,
                                    orjson.loads(r.cost) if r.cost else None, r.created, r.updated, owner=r.owner,
                                    public=bool(r.public))
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
            "created": run.created, "updated": run.updated, "owner": run.owner, "public": int(run.public),
        }))

    def add_records(self, run_id: str, records: list[dict[str, Any]]) -> None:
        self._ops.put(("records", [{"run_id": run_id, "step": r["step"], "data": orjson.dumps(r).decode()}
                                   for r in records]))

    def clear_records(self, run_id: str) -> None:
        self._ops.put(("clear", run_id))

    def delete_run(self, run_id: str) -> None:
        self._ops.put(("delete", run_id))

    def save_checkpoint(self, run_id: str, step: int, data: bytes) -> None:
        """Keep ``data`` (a training state after ``step`` updates) as the run's one checkpoint."""
        self._ops.put(("checkpoint", {"run_id": run_id, "step": step, "data": data, "created": time.time()}))

    def load_checkpoint(self, run_id: str) -> tuple[int, bytes] | None:
        """The run's checkpoint as ``(step, data)``, or None. Blocks until earlier writes are done: call it off
        the event loop."""
        self.flush()
        with self.engine.connect() as conn:
            row = conn.execute(select(CheckpointRow.step, CheckpointRow.data)
                               .where(CheckpointRow.run_id == run_id)).first()
        return None if row is None else (row.step, bytes(row.data))

    def delete_checkpoint(self, run_id: str) -> None:
        self._ops.put(("uncheckpoint", run_id))

    # -- keyframes and full histories (for replay, export, reopening) -------------------------------------------
    def save_keyframe(self, run_id: str, step: int, data: bytes) -> None:
        """Keep ``data`` (a training state after ``step`` updates, without its history) as one of the run's
        keyframes; a keyframe at the same step replaces the old one."""
        self._ops.put(("keyframe", {"run_id": run_id, "step": step, "data": data, "created": time.time()}))

    def keyframe_steps(self, run_id: str) -> list[int]:
        """The steps the run has keyframes for, ascending. Blocks until earlier writes are done (off the loop)."""
        self.flush()
        with self.engine.connect() as conn:
            rows = conn.execute(select(KeyframeRow.step).where(KeyframeRow.run_id == run_id)
                                .order_by(KeyframeRow.step))
            return [r.step for r in rows]

    def load_keyframe(self, run_id: str, step: int) -> tuple[int, bytes] | None:
        """The run's latest keyframe at or before ``step`` as ``(its step, data)``, or None (off the loop)."""
        self.flush()
        with self.engine.connect() as conn:
            row = conn.execute(select(KeyframeRow.step, KeyframeRow.data)
                               .where(KeyframeRow.run_id == run_id, KeyframeRow.step <= step)
                               .order_by(KeyframeRow.step.desc()).limit(1)).first()
        return None if row is None else (row.step, bytes(row.data))

    def read_records(self, run_id: str, stop: int | None = None) -> list[dict[str, Any]]:
        """Every record the run wrote (full resolution, unlike the thinned history kept in memory), with
        ``step ≤ stop`` when given; in step order (off the loop)."""
        self.flush()
        query = select(RecordRow.data).where(RecordRow.run_id == run_id)
        if stop is not None:
            query = query.where(RecordRow.step <= stop)
        with self.engine.connect() as conn:
            return [orjson.loads(d) for (d,) in conn.execute(query.order_by(RecordRow.step, RecordRow.id))]

    def call(self, write: Callable[[Connection], None]) -> None:
        """Run ``write(conn)`` in the writer thread's next transaction (for tables this module does not manage,
        e.g. app/rooms/persist.py)."""
        self._ops.put(("call", write))

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
            self._write([op for op in ops if op[0] != "flush"])
            for kind, arg in ops:
                if kind == "flush":
                    arg.set()
            if stop:
                return

    def _write(self, ops: list[Any]) -> None:
        """All of ``ops`` in one transaction; if that fails, each alone, counting and logging the ones that fail."""
        try:
            with self.engine.begin() as conn:
                for op in ops:
                    _apply(conn, op)
            return
        except Exception:  # noqa: BLE001 - a failed write must not end the writer
            if len(ops) == 1:
                self._failed(ops[0])
                return
        for op in ops:
            try:
                with self.engine.begin() as conn:
                    _apply(conn, op)
            except Exception:  # noqa: BLE001
                self._failed(op)

    def _failed(self, op: Any) -> None:
        self.failures += 1
        log.exception("database write failed (%s); it is lost", op[0])
        self.last_error = f"{op[0]}: {sys.exc_info()[1]!r}"[:500]


def _apply(conn: Connection, op: tuple[str, Any]) -> None:
    kind, arg = op
    if kind == "save":
        exists = conn.execute(select(RunRow.id).where(RunRow.id == arg["id"])).first()
        if exists:
            conn.execute(update(RunRow.__table__).where(RunRow.id == arg["id"]).values(**arg))
        else:
            conn.execute(insert(RunRow.__table__).values(**arg))
    elif kind == "records" and arg:
        conn.execute(insert(RecordRow.__table__), arg)
    elif kind == "clear":
        conn.execute(delete(RecordRow.__table__).where(RecordRow.run_id == arg))
        conn.execute(delete(KeyframeRow.__table__).where(KeyframeRow.run_id == arg))
    elif kind == "delete":
        conn.execute(delete(RecordRow.__table__).where(RecordRow.run_id == arg))
        conn.execute(delete(KeyframeRow.__table__).where(KeyframeRow.run_id == arg))
        conn.execute(delete(CheckpointRow.__table__).where(CheckpointRow.run_id == arg))
        conn.execute(delete(RunRow.__table__).where(RunRow.id == arg))
    elif kind == "checkpoint":
        conn.execute(delete(CheckpointRow.__table__).where(CheckpointRow.run_id == arg["run_id"]))
        conn.execute(insert(CheckpointRow.__table__).values(**arg))
    elif kind == "keyframe":
        conn.execute(delete(KeyframeRow.__table__).where(KeyframeRow.run_id == arg["run_id"],
                                                         KeyframeRow.step == arg["step"]))
        conn.execute(insert(KeyframeRow.__table__).values(**arg))
    elif kind == "call":
        arg(conn)
    elif kind == "uncheckpoint":
        conn.execute(delete(CheckpointRow.__table__).where(CheckpointRow.run_id == arg))

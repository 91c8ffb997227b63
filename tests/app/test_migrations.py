"""The database upgrades in place: a file written by the first schema (before owners and checkpoints) opens with
every run and record, gains the new column and table, and opening it again changes nothing."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import orjson
import pytest
from sqlalchemy import create_engine, inspect

from app import migrations
from app.store import Base, Store, StoredRun

#: The tables exactly as the server wrote them before migrations existed (SQLite's own text of main 9d73cf0's
#: ``create_all``; copied from ``sqlite_master``).
V1_DDL = [
    "CREATE TABLE runs (\n\tid VARCHAR(32) NOT NULL, \n\tspec TEXT NOT NULL, \n\tstatus VARCHAR(16) NOT NULL, "
    "\n\tspeed FLOAT NOT NULL, \n\tmessage TEXT, \n\tcost TEXT, \n\tcreated FLOAT NOT NULL, "
    "\n\tupdated FLOAT NOT NULL, \n\tPRIMARY KEY (id)\n)",
    "CREATE TABLE records (\n\tid INTEGER NOT NULL, \n\trun_id VARCHAR(32) NOT NULL, \n\tstep INTEGER NOT NULL, "
    "\n\tdata TEXT NOT NULL, \n\tPRIMARY KEY (id)\n)",
    "CREATE INDEX ix_records_run_id ON records (run_id)",
]
SPEC = {"task": "add", "rule": "bptt", "optim": {"lr": 0.01}}
RUNS = {"aaaaaaaaaaaa": ("done", 3), "bbbbbbbbbbbb": ("stopped", 2), "cccccccccccc": ("error", 0)}


def _record(step: int) -> dict[str, object]:
    return {"step": step, "loss": 1.0 / step, "accuracy": 0.5, "ms": 1.5, "alignment": None}


@pytest.fixture
def v1_db(tmp_path: Path) -> Path:
    path = tmp_path / "creditlab.db"
    with sqlite3.connect(path) as db:
        for ddl in V1_DDL:
            db.execute(ddl)
        for i, (run_id, (status, steps)) in enumerate(RUNS.items()):
            db.execute("INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                       (run_id, orjson.dumps(SPEC).decode(), status, 0.0, None,
                        orjson.dumps({"state_bytes": 10}).decode(), 100.0 + i, 200.0 + i))
            for step in range(1, steps + 1):
                db.execute("INSERT INTO records (run_id, step, data) VALUES (?, ?, ?)",
                           (run_id, step, orjson.dumps(_record(step)).decode()))
    return path


def _open(path: Path) -> tuple[Store, list[StoredRun]]:
    store = Store(f"sqlite:///{path}")
    return store, store.load()


def _check(runs: list[StoredRun]) -> None:
    assert [r.id for r in runs] == list(RUNS)  # oldest first
    for run in runs:
        status, steps = RUNS[run.id]
        assert run.status == status and run.spec == SPEC and run.cost == {"state_bytes": 10}
        assert run.history == [_record(s) for s in range(1, steps + 1)]
        assert run.owner is None  # made before owners: nobody holds a token for it, it is watch-only


def _schema(path: Path) -> dict[str, object]:
    engine = create_engine(f"sqlite:///{path}")
    with engine.connect() as conn:
        insp = inspect(conn)
        out = {t: (sorted((c["name"], str(c["type"]), c["nullable"]) for c in insp.get_columns(t)),
                   sorted(i["name"] for i in insp.get_indexes(t)))
               for t in insp.get_table_names()}
        out["version"] = migrations.version(conn)
    engine.dispose()
    return out


def test_a_first_schema_database_keeps_every_run_and_record(v1_db: Path) -> None:
    store, runs = _open(v1_db)
    try:
        _check(runs)
        store.save_run(StoredRun("dddddddddddd", SPEC, "queued", 0.0, None, None, 300.0, 300.0, owner="ab" * 32))
        store.add_records("dddddddddddd", [_record(1)])
        assert store.flush()
    finally:
        store.close()
    assert _schema(v1_db)["version"] == migrations.LATEST == 6
    store, runs = _open(v1_db)  # again: the upgrade does nothing twice
    store.close()
    _check([r for r in runs if r.id in RUNS])
    assert runs[-1].owner == "ab" * 32 and runs[-1].history == [_record(1)]


def test_the_upgrade_is_idempotent(v1_db: Path) -> None:
    Store(f"sqlite:///{v1_db}").close()
    once = _schema(v1_db)
    engine = create_engine(f"sqlite:///{v1_db}")
    with engine.begin() as conn:
        for step in migrations.STEPS:  # as if a crash had lost every version bump
            step(conn)
        assert migrations.upgrade(conn) == migrations.LATEST
    engine.dispose()
    assert _schema(v1_db) == once
    store, runs = _open(v1_db)
    store.close()
    _check(runs)


def test_an_upgraded_database_equals_a_new_one_and_the_models(v1_db: Path, tmp_path: Path) -> None:
    Store(f"sqlite:///{v1_db}").close()
    new = tmp_path / "new.db"
    Store(f"sqlite:///{new}").close()
    assert _schema(v1_db) == _schema(new)
    models = tmp_path / "models.db"
    engine = create_engine(f"sqlite:///{models}")
    Base.metadata.create_all(engine)
    engine.dispose()
    from_models = _schema(models)
    upgraded = _schema(v1_db)
    assert {k: v for k, v in upgraded.items() if k not in ("schema_version", "version")} == \
        {k: v for k, v in from_models.items() if k != "version"}


def test_a_newer_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "future.db"
    Store(f"sqlite:///{path}").close()
    with sqlite3.connect(path) as db:
        db.execute("UPDATE schema_version SET version = 99")
    with pytest.raises(RuntimeError, match="newer"):
        Store(f"sqlite:///{path}")


def test_checkpoints_are_kept_replaced_and_deleted(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'c.db'}")
    try:
        assert store.load_checkpoint("r1") is None
        store.save_checkpoint("r1", 5, b"\x00weights")
        store.save_checkpoint("r1", 9, b"\x01newer")
        store.save_checkpoint("r2", 1, b"other")
        assert store.load_checkpoint("r1") == (9, b"\x01newer")
        store.delete_checkpoint("r1")
        assert store.load_checkpoint("r1") is None and store.load_checkpoint("r2") == (1, b"other")
        store.delete_run("r2")
        assert store.load_checkpoint("r2") is None
    finally:
        store.close()


def test_a_failed_write_is_counted_and_loses_only_itself(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'f.db'}")
    try:
        good = StoredRun("good", SPEC, "done", 0.0, None, None, 1.0, 1.0)
        store.save_run(good)
        store._ops.put(("records", [{"run_id": "good", "step": None, "data": "x"}]))  # NOT NULL: fails
        store.add_records("good", [_record(1)])
        assert store.flush()
        assert store.failures == 1 and "records" in (store.last_error or "")
        (run,) = store.load()
        assert run.history == [_record(1)]  # the batch's other writes went through
    finally:
        store.close()

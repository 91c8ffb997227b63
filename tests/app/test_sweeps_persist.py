"""Sweeps outlive the server: a finished sweep comes back after a restart with its points, lines and owner; one
the server's stop (or a crash) cut short comes back interrupted with the points it had finished; a database of
the previous schema (5) opens and gains the ``sweeps`` table."""

from __future__ import annotations

import sqlite3
import warnings
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from apputil import TINY, make_settings, wait_for
from app import migrations
from app.comparisons import sweep_persist
from app.comparisons.sweeps import INTERRUPTED, Sweep
from app.main import create_app
from app.store import Store
from engine.compare import SweepSpec

BASE = {k: v for k, v in TINY.items() if k != "rule"}
SWEEP = {"base": {**BASE, "steps": 3}, "setting": "task.t2", "values": [3, 4], "rules": ["bptt", "readout"],
         "seeds": [0]}


def start(client: TestClient, body: dict[str, Any]) -> dict[str, Any]:
    r = client.post("/api/sweeps", json=body)
    assert r.status_code == 201, r.text
    return r.json()


def get(client: TestClient, sweep_id: str) -> dict[str, Any]:
    r = client.get(f"/api/sweeps/{sweep_id}")
    assert r.status_code == 200, r.text
    return r.json()


def stop(client: TestClient, sweep_id: str, token: str | None) -> int:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.post(f"/api/sweeps/{sweep_id}/control", json={"action": "stop"}, headers=headers).status_code


def events(client: TestClient, sweep_id: str) -> list[str]:
    with client.stream("GET", f"/api/sweeps/{sweep_id}/events") as stream:
        return [line.removeprefix("event: ") for line in stream.iter_lines() if line.startswith("event: ")]


def test_a_finished_sweep_survives_a_restart_with_its_points_and_owner(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    with TestClient(create_app(settings)) as client:
        sw = start(client, SWEEP)
        before = wait_for(lambda: (d := get(client, sw["id"]))["status"] == "done" and d, 120, "the sweep")
    assert len(before["points"]) == 4 and all(None not in ys for ys in before["lines"].values())
    with TestClient(create_app(settings)) as client:  # the same database, a new server
        after = get(client, sw["id"])
        assert after == before  # status, spec, every point's numbers, the lines
        assert events(client, sw["id"]) == ["point"] * 4 + ["end"]
        assert stop(client, sw["id"], "y" * 43) == 403 and stop(client, sw["id"], None) == 403
        assert stop(client, sw["id"], sw["owner_token"]) == 200  # still its owner's
        assert client.get(f"/sweep/{sw['id']}").status_code == 200
        assert client.get("/api/sweeps/nope").status_code == 404


def test_a_sweep_cut_short_by_the_server_comes_back_interrupted_with_its_points(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    values = [0.001 * (i + 1) for i in range(20)]  # far more points than can finish before the server stops
    long = {**SWEEP, "base": {**BASE, "steps": 100}, "setting": "optim.lr", "values": values, "rules": ["readout"]}
    with TestClient(create_app(settings)) as client:
        sw = start(client, long)
        wait_for(lambda: get(client, sw["id"])["points"], 120, "a first point")
    with TestClient(create_app(settings)) as client:
        after = get(client, sw["id"])
        assert after["status"] == "interrupted" and 1 <= len(after["points"]) < after["total"] == 20
        assert after["message"] == INTERRUPTED
        assert events(client, sw["id"])[-1] == "end"
        assert stop(client, sw["id"], "y" * 43) == 403
        assert not [s for s in client.app.state.sweeps.items.values() if s.status == "running"]  # holds no slot


def test_a_sweep_stored_as_running_by_a_crashed_server_comes_back_interrupted(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    store = Store(settings.resolved_database_url())
    point = {"rule": "bptt", "value": 3, "seeds": [0], "accuracy": {"mean": 0.5, "min": 0.5, "max": 0.5}}
    sweep_persist.save(store, Sweep("abcdef012345", SweepSpec.model_validate(SWEEP), "ab" * 32, "running", None,
                                    [point], created=1.0).stored())
    store.flush()
    store.close()
    with TestClient(create_app(settings)) as client:
        after = get(client, "abcdef012345")
        assert after["status"] == "interrupted" and after["points"] == [point]
        assert after["message"] == INTERRUPTED


def test_a_schema_5_database_opens_keeps_its_comparisons_and_gains_sweeps(tmp_path: Path) -> None:
    path = tmp_path / "v5.db"
    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        for step in migrations.STEPS[:5]:
            step(conn)
        conn.execute(text("CREATE TABLE schema_version (version INTEGER NOT NULL)"))
        conn.execute(text("INSERT INTO schema_version (version) VALUES (5)"))
    engine.dispose()
    with sqlite3.connect(path) as db:
        db.execute("INSERT INTO comparisons VALUES ('c1', 'o', '{}', '[]', '[]', 'free', 0.9, NULL, 1.0)")
    store = Store(f"sqlite:///{path}")
    try:
        assert sweep_persist.load(store) == []
    finally:
        store.close()
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT version FROM schema_version").fetchone() == (6,)
        assert db.execute("SELECT id, mode FROM comparisons").fetchall() == [("c1", "free")]
        assert "sweeps" in {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}

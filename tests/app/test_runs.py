"""Runs end to end: divergence, worker failures, process hygiene, unwatched runs, persistence across restarts."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Iterator

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from apputil import AUTH, DIVERGING, control, make_settings, new_run, ready_run, run_info, wait_for, wait_status, watch
from engine.rules import RULES
from engine.tasks import TASKS

pytestmark = pytest.mark.timeout(120)


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def worker_pid(client: TestClient, run_id: str) -> int:
    return client.app.state.manager.runs[run_id].worker.process.pid  # type: ignore[attr-defined]


def test_diverged_run_stops_with_history(client: TestClient) -> None:
    run_id = ready_run(client, **DIVERGING)["id"]
    with watch(client, run_id) as reader:
        reader.ws.send_text('{"type":"control","action":"play"}')
        last = reader.until(lambda m: m["type"] == "metrics" and m["diverged"])
        assert last["records"][-1]["loss"] is None  # NaN travels as null
        reader.until(lambda m: m["type"] == "status" and m["status"] == "diverged")
    info = run_info(client, run_id)
    assert info["status"] == "diverged" and info["final"]["status"] == "diverged"
    assert [r["step"] for r in info["history"]] == list(range(1, info["step"] + 1)) and info["step"] >= 1
    assert control(client, run_id, "play").status_code == 409
    assert control(client, run_id, "reset").json()["status"] == "paused"


@pytest.fixture
def exploding_client(tmp_path: Path) -> Iterator[TestClient]:
    try:
        with TestClient(create_app(make_settings(tmp_path, plugins=["exploding_task"]))) as client:
            yield client
    finally:
        TASKS._entries.pop("explode", None)  # leave the registry as the other tests expect it
        sys.modules.pop("exploding_task", None)


def test_worker_exception_reaches_viewers(exploding_client: TestClient) -> None:
    client = exploding_client
    run_id = ready_run(client, task="explode", task_config={}, batch=2)["id"]
    pid = worker_pid(client, run_id)
    with watch(client, run_id) as reader:
        reader.ws.send_text('{"type":"control","action":"play"}')
        error = reader.until(lambda m: m["type"] == "error")
        assert "boom" in error["message"]
        if not any(m["type"] == "status" and m["status"] == "error" for m in reader.texts):
            reader.until(lambda m: m["type"] == "status" and m["status"] == "error")
    info = run_info(client, run_id)
    assert info["status"] == "error" and "boom" in info["message"] and len(info["history"]) == 1
    wait_for(lambda: gone(pid), what="the failed worker to exit")
    assert client.get("/healthz").status_code == 200
    assert ready_run(client)["status"] == "paused"  # the server carries on


def test_stop_ends_the_worker_process(client: TestClient) -> None:
    run_id = ready_run(client)["id"]
    pid = worker_pid(client, run_id)
    control(client, run_id, "play")
    control(client, run_id, "stop")
    manager = client.app.state.manager  # type: ignore[attr-defined]
    wait_for(lambda: manager.runs[run_id].worker is None and gone(pid), what="the worker to exit")
    assert manager.workers == 0 and not manager.live


def test_unwatched_paused_run_rests_without_its_worker(tmp_path: Path) -> None:
    with TestClient(create_app(make_settings(tmp_path, idle_release_s=0.3))) as client:
        run_id = ready_run(client)["id"]
        pid = worker_pid(client, run_id)
        manager = client.app.state.manager  # type: ignore[attr-defined]
        wait_for(lambda: manager.runs[run_id].worker is None and gone(pid), what="the idle worker to exit")
        info = run_info(client, run_id)
        assert info["status"] == "paused" and "nobody watched" in info["message"]
        assert manager.workers == 0


def test_watched_run_keeps_its_worker(tmp_path: Path) -> None:
    with TestClient(create_app(make_settings(tmp_path, idle_release_s=0.3))) as client:
        run_id = new_run(client)["id"]
        with watch(client, run_id) as reader:
            reader.until(lambda m: m["type"] == "status" and m["status"] == "paused")
            # hold the viewer for twice idle_release_s (an absence check: it needs some wall time)
            start = time.monotonic()
            wait_for(lambda: time.monotonic() - start > 0.6, what="time to pass")
            assert client.app.state.manager.runs[run_id].worker is not None  # type: ignore[attr-defined]
            assert control(client, run_id, "step").json()["step"] == 1


def test_shutdown_ends_every_worker(tmp_path: Path) -> None:
    with TestClient(create_app(make_settings(tmp_path))) as client:
        ids = [ready_run(client)["id"] for _ in range(2)]
        pids = [worker_pid(client, i) for i in ids]
        control(client, ids[0], "play")
    wait_for(lambda: all(gone(p) for p in pids), what="workers to exit with the server")


def test_restart_keeps_runs_and_histories(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    with TestClient(create_app(settings)) as client:
        live = ready_run(client)["id"]
        for _ in range(3):
            control(client, live, "step")
        done = ready_run(client, steps=2)["id"]
        control(client, done, "play")
        wait_status(client, done, "done")
        before = {i: run_info(client, i) for i in (live, done)}
    with TestClient(create_app(settings)) as client:
        runs = {r["id"]: r for r in client.get("/api/runs", headers=AUTH).json()}  # the owner survives too
        assert set(runs) == {live, done}
        after = {i: run_info(client, i) for i in (live, done)}
    assert after[live]["status"] == "stopped" and after[live]["message"]  # says why
    assert after[live]["history"] == before[live]["history"] and len(after[live]["history"]) == 3
    assert after[done]["status"] == "done" and after[done]["history"] == before[done]["history"]
    assert after[done]["spec"] == before[done]["spec"] and after[done]["final"]["steps"] == 2


@pytest.mark.parametrize("rule", sorted(r for r, cls in RULES if "rnn" in cls.supports))
def test_every_rule_steps_through_the_server(client: TestClient, rule: str) -> None:
    """Each credit rule that trains the rnn runs in a worker: one step, a record, a snapshot with its signals."""
    run_id = ready_run(client, rule=rule, alignment_every=1)["id"]
    assert control(client, run_id, "step").json()["step"] == 1
    record = run_info(client, run_id)["history"][0]
    assert record["step"] == 1 and record["loss"] is not None
    with watch(client, run_id) as reader:
        header, arrays = reader.until_snapshot()
        while header["step"] != 1:
            header, arrays = reader.until_snapshot()
    T = run_info(client, run_id)["spec"]["task_config"]["steps"]
    for name, a in arrays.items():
        if name.startswith("signals."):  # time first, or a per-update value of shape [1]
            assert a.ndim >= 1 and a.shape[0] in (T, 1), (name, a.shape)


@pytest.mark.parametrize("task", TASKS.names())
def test_every_task_previews(client: TestClient, task: str) -> None:
    p = client.post("/api/preview", json={"task": task}).json()
    assert len(p["inputs"]) == len(p["targets"]) == len(p["mask"]) == p["steps"]

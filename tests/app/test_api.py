"""HTTP API: catalog, preview, run creation with errors that name the field, controls and their conflicts."""

from __future__ import annotations

import threading
import time

import pytest
from fastapi.testclient import TestClient

from apputil import AUTH, TINY, control, new_run, ready_run, run_info, wait_for
from engine.archs import ARCHS
from engine.rules import RULES
from engine.rules.base import CreditRule
from engine.tasks import TASKS

pytestmark = pytest.mark.timeout(120)


def test_health_and_catalog_shape(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    cat = client.get("/api/catalog").json()
    assert set(cat) >= {"tasks", "archs", "rules", "compatibility", "optim", "run"}
    assert [t["name"] for t in cat["tasks"]] == TASKS.names()
    assert [a["name"] for a in cat["archs"]] == ARCHS.names()
    assert [r["name"] for r in cat["rules"]] == RULES.names()
    for entry in cat["tasks"] + cat["archs"] + cat["rules"]:
        assert {"name", "description", "settings"} <= set(entry)
        for setting in entry["settings"]:
            assert {"name", "type", "default", "help"} <= set(setting)


def test_preview_returns_one_trial(client: TestClient) -> None:
    r = client.post("/api/preview", json={"task": "add", "task_config": {"steps": 12}, "seed": 3})
    assert r.status_code == 200, r.text
    p = r.json()
    assert p["steps"] == 12 and len(p["inputs"]) == 12 and len(p["mask"]) == 12
    assert all(len(row) == p["n_inputs"] for row in p["inputs"])
    assert all(len(row) == p["n_outputs"] for row in p["targets"])
    assert p["loss_kind"] in ("mse", "xent") and p["periods"]
    again = client.post("/api/preview", json={"task": "add", "task_config": {"steps": 12}, "seed": 3}).json()
    assert again == p  # seeded


def test_preview_names_bad_fields(client: TestClient) -> None:
    r = client.post("/api/preview", json={"task": "nope"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "task"]
    r = client.post("/api/preview", json={"task": "add", "task_config": {"t1": 0}})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "task_config", "t1"]


def test_create_list_get(client: TestClient) -> None:
    info = new_run(client)
    assert info["status"] == "queued" and info["step"] == 0
    assert info["spec"]["task_config"]["t1"] == 2 and "alpha" in info["spec"]["arch_config"]  # defaults filled in
    assert info["id"] in [r["id"] for r in client.get("/api/runs", headers=AUTH).json()]
    detail = run_info(client, info["id"])
    assert detail["history"] == [] and detail["lr"] == info["spec"]["optim"]["lr"]


def _loc(r) -> list:  # type: ignore[no-untyped-def]
    assert r.status_code == 422, r.text
    return r.json()["detail"][0]["loc"]


def test_unknown_names_are_422_listing_valid_names(client: TestClient) -> None:
    r = client.post("/api/runs", json={**TINY, "task": "juggling"})
    assert _loc(r) == ["body", "task"]
    assert all(name in r.json()["detail"][0]["msg"] for name in TASKS.names())
    assert _loc(client.post("/api/runs", json={**TINY, "arch": "transformer"})) == ["body", "arch"]
    assert _loc(client.post("/api/runs", json={**TINY, "rule": "magic"})) == ["body", "rule"]


def test_bad_settings_name_the_field(client: TestClient) -> None:
    r = client.post("/api/runs", json={**TINY, "task_config": {"t1": 0}})
    assert _loc(r) == ["body", "task_config", "t1"] and ">=" in r.json()["detail"][0]["msg"]
    assert _loc(client.post("/api/runs", json={**TINY, "arch_config": {"hidden": 10**9}})) == \
        ["body", "arch_config", "hidden"]
    assert _loc(client.post("/api/runs", json={**TINY, "task_config": {"colour": 1}}))[:2] == ["body", "task_config"]
    assert _loc(client.post("/api/runs", json={**TINY, "batch": 0})) == ["body", "batch"]
    assert _loc(client.post("/api/runs", json={**TINY, "optim": {"lr": -1}})) == ["body", "optim", "lr"]


def test_incompatible_pair_names_rule(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    class Picky(CreditRule):
        supports = frozenset({"some-other-architecture"})

    monkeypatch.setitem(RULES._entries, "picky", Picky)
    r = client.post("/api/runs", json={**TINY, "rule": "picky"})
    assert _loc(r) == ["body", "rule"] and "rnn" in r.json()["detail"][0]["msg"]


def test_unknown_run_is_404(client: TestClient) -> None:
    assert client.get("/api/runs/nope").status_code == 404
    assert control(client, "nope", "play").status_code == 404


def test_bad_control_is_422(client: TestClient) -> None:
    run = new_run(client)
    assert client.post(f"/api/runs/{run['id']}/control", json={"action": "jump"}, headers=AUTH).status_code == 422
    assert control(client, run["id"], "lr", 0).status_code == 422
    assert control(client, run["id"], "speed", -1).status_code == 422


def test_control_transitions_and_conflicts(client: TestClient) -> None:
    run_id = ready_run(client)["id"]
    r = control(client, run_id, "step")
    assert r.status_code == 200 and r.json()["step"] == 1 and r.json()["status"] == "paused"
    assert len(run_info(client, run_id)["history"]) == 1

    assert control(client, run_id, "lr", 0.5).json()["lr"] == 0.5
    assert run_info(client, run_id)["spec"]["optim"]["lr"] == 0.5
    assert control(client, run_id, "speed", 50).json()["speed"] == 50

    assert control(client, run_id, "play").json()["status"] == "running"
    assert control(client, run_id, "play").status_code == 200  # idempotent
    assert control(client, run_id, "step").status_code == 409  # step while running
    paused = control(client, run_id, "pause").json()
    assert paused["status"] == "paused"
    assert len(run_info(client, run_id)["history"]) == paused["step"]

    stopped = control(client, run_id, "stop").json()
    assert stopped["status"] == "stopped" and stopped["final"]["steps"] == paused["step"]
    for action in ("play", "pause", "step"):
        assert control(client, run_id, action).status_code == 409, action
    assert control(client, run_id, "stop").json()["status"] == "stopped"  # already stopped: a no-op success
    assert control(client, run_id, "lr", 0.1).status_code == 409

    reset = control(client, run_id, "reset").json()
    assert reset["status"] in ("queued", "paused") and reset["step"] == 0
    info = wait_for(lambda: (i := run_info(client, run_id))["status"] == "paused" and i, what="reset run ready")
    assert info["history"] == [] and info["lr"] == 0.5  # the reset keeps the current learning rate


def test_reset_of_a_live_run_clears_history(client: TestClient) -> None:
    run_id = ready_run(client)["id"]
    for _ in range(3):
        control(client, run_id, "step")
    r = control(client, run_id, "reset").json()
    assert r["status"] == "paused" and r["step"] == 0
    assert run_info(client, run_id)["history"] == []
    assert control(client, run_id, "step").json()["step"] == 1


def test_queued_runs_report_positions_and_autoplay(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from app.main import create_app
    from apputil import make_settings, wait_status

    with TestClient(create_app(make_settings(tmp_path, max_concurrent_runs=1))) as client:
        first = ready_run(client)["id"]
        second, third = new_run(client)["id"], new_run(client)["id"]
        assert run_info(client, second)["queue_position"] == 1
        assert run_info(client, third)["queue_position"] == 2
        assert control(client, second, "step").status_code == 409
        assert control(client, second, "play").status_code == 200  # starts running once it has a worker
        assert control(client, third, "stop").json()["status"] == "stopped"
        control(client, first, "stop")
        info = wait_status(client, second, "running", "done")
        assert info["queue_position"] is None


def test_speed_limits_updates_per_second(client: TestClient) -> None:
    run_id = ready_run(client)["id"]
    control(client, run_id, "speed", 20)
    start = time.monotonic()
    control(client, run_id, "play")
    wait_for(lambda: run_info(client, run_id)["step"] >= 6, what="six updates")
    assert time.monotonic() - start >= 5 / 20 * 0.9  # at most 20 updates/s (the first one starts at once)
    control(client, run_id, "speed", 0)  # and back to full speed while running
    n = run_info(client, run_id)["step"]
    wait_for(lambda: run_info(client, run_id)["step"] >= n + 20, what="full speed")


def test_settings_that_disagree_name_the_config(client: TestClient) -> None:
    r = client.post("/api/runs", json={**TINY, "task_config": {"t1": 5, "t2": 3}})
    assert _loc(r) == ["body", "task_config"] and "t2" in r.json()["detail"][0]["msg"]
    assert _loc(client.post("/api/runs", json={**TINY, "batch": "5"})) == ["body", "batch"]  # strict JSON types
    assert _loc(client.post("/api/runs", json={**TINY, "alignment_every": True})) == ["body", "alignment_every"]


def test_a_rule_that_cannot_afford_the_size_is_a_422(client: TestClient) -> None:
    r = client.post("/api/runs", json={**TINY, "rule": "rtrl", "arch_config": {"hidden": 256}, "batch": 64})
    assert r.status_code == 422
    (detail,) = r.json()["detail"]
    assert detail["loc"] == ["body", "rule"]
    assert "MiB" in detail["msg"] and not detail["msg"].startswith("rule")  # the field is in loc, not repeated


NON_FINITE = ["NaN", "Infinity", "-Infinity", "1e999", "-1e999"]


@pytest.mark.parametrize("literal", NON_FINITE)
def test_non_finite_numbers_are_422_naming_the_field(client: TestClient, literal: str) -> None:
    run_id = new_run(client)["id"]
    cases = [
        ("/api/runs", '{"task": "add", "optim": {"lr": %s}}', ["body", "optim", "lr"]),
        ("/api/runs", '{"task": "add", "arch_config": {"gain": %s}}', ["body", "arch_config", "gain"]),
        ("/api/runs", '{"task": "add", "task_config": {"x": [1, 2.5, %s]}}', ["body", "task_config", "x", 2]),
        ("/api/preview", '{"task": "add", "seed": %s}', ["body", "seed"]),
        (f"/api/runs/{run_id}/control", '{"action": "lr", "value": %s}', ["body", "value"]),
        (f"/api/runs/{run_id}/control", '{"action": "speed", "value": %s}', ["body", "value"]),
    ]
    for path, body, loc in cases:
        r = client.post(path, content=body % literal, headers={**AUTH, "content-type": "application/json"})
        assert r.status_code == 422, (path, body, r.text)
        (detail,) = r.json()["detail"]
        assert detail["loc"] == loc and "finite" in detail["msg"]
    assert run_info(client, run_id)["lr"] == TINY.get("optim", {}).get("lr", 0.01)  # nothing changed


def test_bodies_over_a_megabyte_are_413_before_parsing(client: TestClient) -> None:
    run_id = new_run(client)["id"]
    mine = lambda: [r["id"] for r in client.get("/api/runs", headers=AUTH).json()]  # noqa: E731
    before = mine()
    valid = b'{"task": "add", "steps": 5}'  # a run the server would create, padded past the limit
    big = valid + b" " * (1 << 20)
    for path in ("/api/runs", "/api/preview", f"/api/runs/{run_id}/control"):
        r = client.post(path, content=big, headers={**AUTH, "content-type": "application/json"})
        assert r.status_code == 413 and "bytes" in r.json()["detail"], path
        streamed = client.post(path, content=iter([big[:1000], big[1000:]]), headers=AUTH)  # no Content-Length
        assert streamed.status_code == 413, path
    assert mine() == before  # nothing was created
    ok = client.post("/api/runs", content=valid + b" " * ((1 << 20) - len(valid)),
                     headers={**AUTH, "content-type": "application/json"})
    assert ok.status_code == 201  # exactly at the limit is fine


def test_building_a_run_leaves_the_event_loop_free(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    import app.runs.manager as manager_module

    started, release, order = threading.Event(), threading.Event(), []
    real_build = manager_module.build

    def slow_build(resolved):  # type: ignore[no-untyped-def]
        started.set()
        release.wait(10)  # on the event loop, this would hold every other request for 10 s
        order.append("built")
        return real_build(resolved)

    monkeypatch.setattr(manager_module, "build", slow_build)
    creating = threading.Thread(target=lambda: order.append(new_run(client)["status"]))
    creating.start()
    assert started.wait(30)
    assert client.get("/healthz").status_code == 200
    order.append("healthz")
    release.set()
    creating.join(30)
    assert order == ["healthz", "built", "queued"]


def test_failed_database_writes_show_in_health(client: TestClient) -> None:
    assert client.get("/api/health").json() == {"status": "ok", "database": {"failed_writes": 0, "last_error": None}}
    store = client.app.state.store  # type: ignore[attr-defined]
    store._ops.put(("records", [{"run_id": "x", "step": None, "data": "x"}]))  # violates NOT NULL
    assert store.flush()
    health = client.get("/api/health").json()
    assert health["status"] == "degraded" and health["database"]["failed_writes"] == 1
    assert "records" in health["database"]["last_error"]


def test_405_names_the_allowed_methods(client: TestClient) -> None:
    r = client.put("/api/catalog")
    assert r.status_code == 405 and r.headers["allow"] == "GET"
    r = client.delete("/api/runs")
    assert r.status_code == 405 and r.headers["allow"] == "GET, POST"


def test_nested_settings_take_json_types_exactly(client: TestClient) -> None:
    assert _loc(client.post("/api/runs", json={**TINY, "arch_config": {"hidden": 6.0}})) == \
        ["body", "arch_config", "hidden"]
    assert _loc(client.post("/api/runs", json={**TINY, "task_config": {"t1": 2, "t2": 3, "steps": True}})) == \
        ["body", "task_config", "steps"]
    assert _loc(client.post("/api/preview", json={"task": "add", "task_config": {"steps": 12.0}})) == \
        ["body", "task_config", "steps"]
    assert client.post("/api/runs", json={**TINY, "arch_config": {"hidden": 6, "gain": 1}}).status_code == 201

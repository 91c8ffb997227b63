"""Comparisons on the server: members are runs, trained in lock-step waves (or in turn when the cap is smaller),
controlled only by the owner's token; bad specs are 422s that name the field."""

from __future__ import annotations

import time
import warnings
from pathlib import Path
from typing import Any

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from apputil import TINY, make_settings, wait_for
from app.main import create_app

BASE = {k: v for k, v in TINY.items() if k != "rule"} | {"steps": 30}
RULES = [{"rule": "bptt"}, {"rule": "eprop"}, {"rule": "readout"}]


def create(client: TestClient, members: list[dict[str, Any]] = RULES, **extra: Any) -> dict[str, Any]:
    r = client.post("/api/comparisons", json={"base": BASE, "members": members, **extra})
    assert r.status_code == 201, r.text
    return r.json()


def control(client: TestClient, cmp: dict[str, Any], action: str, token: str | None = None) -> Any:
    headers = {"Authorization": f"Bearer {token or cmp['owner_token']}"}
    return client.post(f"/api/comparisons/{cmp['id']}/control", json={"action": action}, headers=headers)


def detail(client: TestClient, cmp_id: str) -> dict[str, Any]:
    r = client.get(f"/api/comparisons/{cmp_id}")
    assert r.status_code == 200, r.text
    return r.json()


def test_lockstep_members_never_drift_apart_and_the_table_names_a_winner(tmp_path: Path) -> None:
    with TestClient(create_app(make_settings(tmp_path, max_concurrent_runs=3))) as client:
        cmp = create(client)
        assert cmp["mode"] == "lockstep" and cmp["message"] is None
        assert [m["label"] for m in cmp["members"]] == ["bptt", "eprop", "readout"]
        assert all(m["run"]["spec"]["seed"] == 0 and m["run"]["step"] == 0 for m in cmp["members"])
        assert control(client, cmp, "play").status_code == 200
        spreads = []

        def done() -> dict[str, Any] | None:
            d = detail(client, cmp["id"])
            steps = [m["run"]["step"] for m in d["members"]]
            spreads.append(max(steps) - min(steps))
            return d if d["status"] == "done" else None

        final = wait_for(done, 120, "the comparison to finish")
        assert max(spreads) <= 1  # update k of every member before k+1 of any (a wave may be half-reported)
        assert [m["run"]["step"] for m in final["members"]] == [30, 30, 30]
        assert [r["updates"] for r in final["table"]] == [30, 30, 30]
        assert final["winner"]["label"] in {"bptt", "eprop", "readout"}
        assert all(r["state_bytes"] > 0 and r["ms_per_update"] > 0 for r in final["table"])
        run = client.get(f"/api/runs/{final['members'][0]['run']['id']}").json()
        assert run["status"] == "done" and len(run["history"]) == 30  # members are ordinary runs


def test_a_cap_smaller_than_the_comparison_trains_members_in_turn_and_says_so(client: TestClient) -> None:
    cmp = create(client)  # the client's server trains 2 runs at once; this comparison has 3 members
    assert cmp["mode"] == "in_turn" and "at most 2 runs at once" in cmp["message"] and "in turn" in cmp["message"]
    assert control(client, cmp, "play").status_code == 200
    final = wait_for(lambda: (d := detail(client, cmp["id"]))["status"] == "done" and d, 120, "all members done")
    assert [m["run"]["status"] for m in final["members"]] == ["done"] * 3


def test_a_finished_comparison_survives_a_restart(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, max_concurrent_runs=2)
    with TestClient(create_app(settings)) as client:
        cmp = create(client, members=RULES[:2])
        control(client, cmp, "play")
        before = wait_for(lambda: (d := detail(client, cmp["id"]))["status"] == "done" and d, 120, "members done")
    with TestClient(create_app(settings)) as client:  # the same database, a new server
        after = detail(client, cmp["id"])
        assert [m["run"]["id"] for m in after["members"]] == [m["run"]["id"] for m in before["members"]]
        assert after["table"] == before["table"] and after["winner"] == before["winner"]
        assert after["status"] == "done" and after["spec"] == before["spec"]
        report = client.get(f"/api/comparisons/{cmp['id']}/export/report.html")
        assert report.status_code == 200 and report.headers["content-type"].startswith("text/html")
        text = report.text
        assert "Plotly.newPlot" in text and "Winner: " + before["winner"]["label"] in text
        assert text.count('"name":"bptt"') >= 3 and text.count('"name":"eprop"') >= 3  # each member on each chart
        assert client.get("/api/comparisons/nope/export/report.html").status_code == 404
        assert control(client, cmp, "stop", token="x" * 43).status_code == 403  # still its owner's


def test_only_the_owner_controls_a_comparison(client: TestClient) -> None:
    cmp = create(client, members=RULES[:2])
    assert control(client, cmp, "play", token="x" * 43).status_code == 403
    assert client.post(f"/api/comparisons/{cmp['id']}/control", json={"action": "play"}).status_code == 403
    assert detail(client, cmp["id"])["status"] == "paused"
    assert control(client, cmp, "stop").status_code == 200
    assert all(m["run"]["status"] == "stopped" for m in detail(client, cmp["id"])["members"])
    assert control(client, cmp, "play").status_code == 409
    assert client.get("/api/comparisons/nope").status_code == 404


@pytest.mark.parametrize("body, loc", [
    ({"base": BASE, "members": [{"rule": "bptt"}, {"rule": "nope"}]}, ["body", "members", "1", "rule"]),
    ({"base": BASE, "members": [{"rule": "bptt"}, {"arch.hidden": 0}]}, ["body", "members", "1", "arch_config",
                                                                         "hidden"]),
    ({"base": {**BASE, "task": "nope"}, "members": RULES}, ["body", "base", "task"]),
    ({"base": BASE, "members": [{"rule": "bptt"}, {"seed": 3}]}, ["body", "members"]),
    ({"base": BASE, "members": [{"rule": "bptt"}]}, ["body", "members"]),
    ({"base": BASE, "members": RULES, "lockstep": "yes"}, ["body", "lockstep"]),
])
def test_a_bad_comparison_is_a_422_naming_the_field(client: TestClient, body: dict[str, Any], loc: list[str]) -> None:
    r = client.post("/api/comparisons", json=body)
    assert r.status_code == 422, r.text
    assert [str(p) for p in r.json()["detail"][0]["loc"]] == loc
    assert not client.app.state.manager.runs  # nothing was created


def test_a_comparison_larger_than_the_owner_limit_is_refused_whole(tmp_path: Path) -> None:
    with TestClient(create_app(make_settings(tmp_path, max_runs_per_owner=3))) as client:
        members = RULES + [{"rule": "bptt", "arch.hidden": 4}]  # 4 runs; this server lets an owner have 3 at once
        r = client.post("/api/comparisons", json={"base": BASE, "members": members})
        assert r.status_code == 429 and "needs 4 runs" in r.json()["detail"]
        assert not client.app.state.manager.runs


SWEEP = {"base": {**BASE, "steps": 3}, "setting": "task.t2", "values": [3, 4], "rules": ["bptt", "readout"],
         "seeds": [0]}


def test_a_sweep_streams_each_point_as_it_finishes(client: TestClient) -> None:
    r = client.post("/api/sweeps", json=SWEEP)
    assert r.status_code == 201, r.text
    sw = r.json()
    assert sw["status"] == "running" and sw["total"] == 4 and sw["owner_token"]
    assert client.post("/api/sweeps", json=SWEEP).status_code == 429  # one sweep at a time
    events = []
    with client.stream("GET", f"/api/sweeps/{sw['id']}/events") as stream:
        for line in stream.iter_lines():
            if line.startswith("event: "):
                events.append(line.removeprefix("event: "))
    assert events == ["point"] * 4 + ["end"]
    done = client.get(f"/api/sweeps/{sw['id']}").json()
    assert done["status"] == "done" and len(done["points"]) == 4
    assert {(p["rule"], p["value"]) for p in done["points"]} == {(r, v) for r in ("bptt", "readout") for v in (3, 4)}
    assert all(len(ys) == 2 and None not in ys for ys in done["lines"].values())
    headers = {"Authorization": "Bearer " + "y" * 43}
    assert client.post(f"/api/sweeps/{sw['id']}/control", json={"action": "stop"}, headers=headers).status_code == 403


@pytest.mark.parametrize("change, loc", [
    ({"rules": ["bptt", "nope"]}, ["body", "rules", "1"]),
    ({"setting": "task.nope"}, ["body", "setting"]),
    ({"values": [3, 0]}, ["body", "values", "1"]),
    ({"values": [3, 8]}, ["body", "values", "1"]),  # t2 = 8 is fine alone, not in trials of 8 steps
    ({"values": []}, ["body", "values"]),
    ({"seeds": ["0"]}, ["body", "seeds", "0"]),
])
def test_a_bad_sweep_is_a_422_naming_the_field(client: TestClient, change: dict[str, Any], loc: list[str]) -> None:
    r = client.post("/api/sweeps", json={**SWEEP, **change})
    assert r.status_code == 422, r.text
    assert [str(p) for p in r.json()["detail"][0]["loc"]] == loc


def test_the_compare_pages_are_served_and_the_lab_links_to_them(client: TestClient) -> None:
    for path, kind in (("/compare", "compare"), ("/compare/abc123", "compare"), ("/sweep/abc123", "sweep")):
        r = client.get(path)
        assert r.status_code == 200 and f'data-kind="{kind}"' in r.text and "/static/js/compare/main.js" in r.text
    assert 'href="/compare"' in client.get("/").text

"""Saved runs (issue 7): keyframes over a run's length, replay frames that show that step's weights, reopening a
keyframe as a new run that trains on exactly as the original, export round-trips, sharing and deleting."""

from __future__ import annotations

import csv
import io
import secrets
from typing import Any

import pytest
import torch
from fastapi.testclient import TestClient

from app.protocol import decode_snapshot
from apputil import AUTH, TINY, control, ready_run, run_info, wait_status, watch
from engine.spec import parse_spec
from engine.training import Trainer

pytestmark = pytest.mark.timeout(180)

#: 40 updates: keyframes every 2 (app.runs.keyframes.keyframe_every), alignment records every 5.
RUN = {**TINY, "rule": "eprop", "steps": 40, "alignment_every": 5}
STRANGER = {"Authorization": f"Bearer {secrets.token_urlsafe(32)}"}


def finished(client: TestClient, headers: dict[str, str] | None = None, **spec: Any) -> dict[str, Any]:
    run_id = ready_run(client, **{**RUN, **spec})["id"]
    with watch(client, run_id) as reader:
        assert control(client, run_id, "play", headers=headers).status_code == 200
        reader.until(lambda m: m["type"] == "status" and m["status"] == "done")
    return run_info(client, run_id)


def losses(info: dict[str, Any]) -> list[tuple[int, float, Any]]:
    return [(r["step"], r["loss"], r["alignment"]) for r in info["history"]]


def test_keyframes_cover_the_run_and_a_frame_shows_that_steps_weights(client: TestClient) -> None:
    info = finished(client)
    kf = client.get(f"/api/runs/{info['id']}/keyframes").json()
    assert kf["steps"] == list(range(0, 41, 2)) and kf["step"] == 40
    # Scrub to the middle: the frame is the keyframe at or before step 21, i.e. 20, with the weights after 20 updates.
    r = client.get(f"/api/runs/{info['id']}/frames/21")
    assert r.status_code == 200 and r.headers["x-keyframe-step"] == "20"
    header, arrays = decode_snapshot(r.content)
    assert header["step"] == 20
    trainer = Trainer(parse_spec(info["spec"]))
    for _ in range(20):
        trainer.train_step()
    assert torch.equal(torch.from_numpy(arrays["weights.W_rec"].copy()), trainer.arch.W_rec.detach())
    assert not torch.equal(torch.from_numpy(arrays["weights.W_rec"].copy()), trainer.initial["W_rec"])
    assert client.get(f"/api/runs/{info['id']}/frames/0").headers["x-keyframe-step"] == "0"
    assert client.get("/api/runs/nope/keyframes").status_code == 404


def test_a_reopened_keyframe_trains_on_exactly_as_the_original(client: TestClient) -> None:
    info = finished(client)
    r = client.post(f"/api/runs/{info['id']}/reopen", json={"step": 21}, headers=STRANGER)  # anyone with the link
    assert r.status_code == 201, r.text
    copy = r.json()
    assert copy["id"] != info["id"] and copy["step"] == 20 and copy["owner_token"] == STRANGER["Authorization"][7:]
    wait_status(client, copy["id"], "paused")
    assert control(client, info["id"], "reset", headers=STRANGER).status_code == 403  # the original stays its owner's
    with watch(client, copy["id"]) as reader:
        assert control(client, copy["id"], "play", headers=STRANGER).status_code == 200
        reader.until(lambda m: m["type"] == "status" and m["status"] == "done")
    assert losses(run_info(client, copy["id"])) == losses(info)  # bit-identical, before and after step 20
    assert client.post(f"/api/runs/{info['id']}/reopen", json={"step": -1}).status_code == 422


def test_export_round_trip_csv_json_weights_and_report(client: TestClient) -> None:
    info = finished(client)
    base = f"/api/runs/{info['id']}/export"
    spec = client.get(f"{base}/spec.json").json()
    again = client.post("/api/runs", json=spec, headers=AUTH)
    assert again.status_code == 201, again.text
    copy = finished_copy(client, again.json()["id"])
    assert losses(copy)[:10] == losses(info)[:10]  # the exported spec trains the same run
    rows = list(csv.DictReader(io.StringIO(client.get(f"{base}/metrics.csv").text)))
    assert [int(r["step"]) for r in rows] == list(range(1, 41))
    assert float(rows[0]["loss"]) == info["history"][0]["loss"]
    assert rows[4]["alignment_recurrent"] != "" and rows[0]["alignment_recurrent"] == ""
    assert len(client.get(f"{base}/metrics.json").json()["records"]) == 40
    w = client.get(f"{base}/weights.pt")
    assert w.headers["x-keyframe-step"] == "40"
    weights = torch.load(io.BytesIO(w.content), weights_only=True)
    trainer = Trainer(parse_spec(info["spec"]))
    for _ in range(40):
        trainer.train_step()
    assert torch.equal(weights["W_rec"], trainer.arch.W_rec.detach())
    report = client.get(f"{base}/report.html")
    assert report.headers["content-type"].startswith("text/html")
    assert "Plotly.newPlot" in report.text and len(report.text) > 1_000_000  # plots with Plotly inside: offline
    assert "eprop on add" in report.text
    assert client.get(f"{base}/nonsense.txt").status_code == 422


def finished_copy(client: TestClient, run_id: str) -> dict[str, Any]:
    wait_status(client, run_id, "paused")
    with watch(client, run_id) as reader:
        control(client, run_id, "play")
        reader.until(lambda m: m["type"] == "status" and m["status"] == "done")
    return run_info(client, run_id)


def test_only_the_owner_shares_or_deletes_and_delete_forgets_everything(client: TestClient) -> None:
    info = finished(client)
    run_id = info["id"]
    assert client.get("/api/runs?public=true").json() == []
    assert client.patch(f"/api/runs/{run_id}", json={"public": True}, headers=STRANGER).status_code == 403
    assert client.patch(f"/api/runs/{run_id}", json={"public": "yes"}, headers=AUTH).status_code == 422
    assert client.patch(f"/api/runs/{run_id}", json={"public": True}, headers=AUTH).json()["public"] is True
    assert [r["id"] for r in client.get("/api/runs?public=true").json()] == [run_id]  # listed for everyone
    assert client.get("/api/runs").json() == []  # but not without asking for public runs
    assert client.delete(f"/api/runs/{run_id}", headers=STRANGER).status_code == 403
    assert client.delete(f"/api/runs/{run_id}", headers=AUTH).status_code == 204
    assert client.get(f"/api/runs/{run_id}").status_code == 404
    store = client.app.state.manager.store  # type: ignore[attr-defined]
    assert store.keyframe_steps(run_id) == [] and store.read_records(run_id) == []

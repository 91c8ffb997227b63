"""A room's sandbox: each audience member trains their own small copy of the preset, within the server's cap
(queue position shown), with their own owner token; the presenter sees the counts; closing stops them all."""

from __future__ import annotations

from typing import Any

from apputil import TINY, TestClient, make_settings, wait_for

from app.main import create_app
from app.rooms import access
from app.rooms.service import Limits

OWN = access.mint()
SPEC = {**TINY, "arch_config": {"hidden": 200}, "steps": 100_000}


def test_audience_members_train_their_own_copies_until_the_sandbox_closes(tmp_path: Any) -> None:
    with TestClient(create_app(make_settings(tmp_path, max_concurrent_runs=1))) as client:
        room = client.post("/api/rooms", json={"title": "Sandbox"}).json()
        code, presenter = room["code"], {"Authorization": f"Bearer {room['presenter_token']}"}
        base = f"/api/rooms/{code}/sandbox"
        client.cookies.clear()
        assert client.post(f"{base}/runs").status_code == 409  # not open yet
        assert client.put(base, json={"spec": SPEC}).status_code == 403  # only the presenter opens it
        assert client.put(base, json={"spec": {**SPEC, "rule": "nope"}}, headers=presenter).status_code == 422
        opened = client.put(base, json={"spec": SPEC}, headers=presenter)
        assert opened.status_code == 200, opened.text
        assert opened.json()["units"] == 64 and opened.json()["counts"]["started"] == 0  # a small copy

        copies = []
        for _ in range(3):  # three audience members, each with their own participant cookie
            client.cookies.clear()
            assert client.get(f"/api/rooms/{code}").json()["sandbox"] == {
                "open": True, "task": "add", "arch": "rnn", "rule": "bptt", "units": 64}
            first = client.post(f"{base}/runs")
            assert first.status_code == 201, first.text
            again = client.post(f"{base}/runs").json()  # one copy each: asking again answers the same run
            assert again["run"] == first.json()["run"] and again["again"] is True and "owner_token" not in again
            assert client.get(f"/api/rooms/{code}").json()["my_copy"] == first.json()["run"]
            copies.append(first.json())
        assert len({c["owner_token"] for c in copies}) == 3
        client.cookies.clear()  # a fourth member, whose browser already owns runs
        client.get(f"/api/rooms/{code}")
        own = client.post(f"{base}/runs", headers={"Authorization": f"Bearer {OWN}"}).json()
        assert "owner_token" not in own  # a browser that has a token keeps it: the copy is that owner's
        copies.append({**own, "owner_token": OWN})
        # the server runs one at a time here: the others wait in line, and say where they stand
        wait_for(lambda: sorted(client.get(f"/api/runs/{c['run']}").json()["queue_position"] or 0
                                for c in copies)[1:] == [1, 2, 3], 60, "three copies to queue behind the first")
        running = wait_for(lambda: client.get(f"/api/rooms/{code}", headers=presenter).json()["sandbox"]["counts"]
                           if client.get(f"/api/rooms/{code}", headers=presenter).json()["sandbox"]["counts"][
                               "running"] == 1 else None, 60, "one copy to run")
        assert running == {"started": 4, "running": 1, "queued": 3, "finished": 0}
        # a copy belongs to its member: their token controls it, another member's does not
        mine, other = copies[0], copies[1]
        assert client.post(f"/api/runs/{mine['run']}/control", json={"action": "speed", "value": 5},
                           headers={"Authorization": f"Bearer {other['owner_token']}"}).status_code == 403
        assert client.post(f"/api/runs/{mine['run']}/control", json={"action": "speed", "value": 5},
                           headers={"Authorization": f"Bearer {mine['owner_token']}"}).status_code == 200

        client.cookies.clear()
        assert client.delete(base).status_code == 403
        closed = client.delete(base, headers=presenter)
        assert closed.status_code == 200 and closed.json()["stopped"] == 4
        assert {client.get(f"/api/runs/{c['run']}").json()["status"] for c in copies} == {"stopped"}
        assert client.get(f"/api/rooms/{code}").json()["sandbox"] is None
        assert client.post(f"{base}/runs").status_code == 409


def test_starting_copies_is_rate_limited_per_member(client: TestClient) -> None:
    room = client.post("/api/rooms", json={"title": "Sandbox"}).json()
    code, presenter = room["code"], {"Authorization": f"Bearer {room['presenter_token']}"}
    assert client.put(f"/api/rooms/{code}/sandbox", json={"spec": {**TINY, "steps": 1}},
                      headers=presenter).status_code == 200
    client.cookies.clear()
    client.app.state.rooms.starts = Limits(1e-6, 2)  # type: ignore[attr-defined]  (two starts, no refill)
    answers = []
    for _ in range(3):  # a 1-update copy ends fast, so each ask would start a new one
        r = client.post(f"/api/rooms/{code}/sandbox/runs")
        answers.append(r.status_code)
        if r.status_code == 201:
            wait_for(lambda: client.get(f"/api/runs/{r.json()['run']}").json()["status"] in ("done", "stopped"),
                     60, "the copy to finish")
    assert answers == [201, 201, 429]
    client.delete(f"/api/rooms/{code}/sandbox", headers=presenter)


def test_guessing_and_a_sandbox_do_not_mix(client: TestClient) -> None:
    room = client.post("/api/rooms", json={"title": "Sandbox"}).json()
    code, presenter = room["code"], {"Authorization": f"Bearer {room['presenter_token']}"}
    assert client.put(f"/api/rooms/{code}/sandbox", json={}, headers=presenter).status_code == 422  # nothing shown
    assert client.put(f"/api/rooms/{code}/sandbox", json={"spec": TINY}, headers=presenter).status_code == 200
    refused = client.post(f"/api/rooms/{code}/guess", json={"spec": {**TINY, "rule": "eprop"}}, headers=presenter)
    assert refused.status_code == 409 and "sandbox" in refused.text
    assert client.app.state.manager.list() == []  # type: ignore[attr-defined]  (no run was started for it)
    assert client.delete(f"/api/rooms/{code}/sandbox", headers=presenter).json() == {"stopped": 0}
    assert client.post(f"/api/rooms/{code}/guess", json={"spec": {**TINY, "rule": "eprop", "steps": 5}},
                       headers=presenter).status_code == 201
    opened = client.put(f"/api/rooms/{code}/sandbox", json={"spec": TINY}, headers=presenter)
    assert opened.status_code == 409 and "reveal" in opened.text

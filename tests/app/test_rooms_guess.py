"""Guess the rule: a run whose rule the room hides names it nowhere an audience member can look, until the reveal.

The walk covers every door: the room's API, page and socket; the room's relay of the run (hello, metrics,
status, snapshot headers and array names); and the run's own doors for someone who learnt its id anyway
(summary, history, every export, keyframes, frames, reopen, replay page, watch socket, the public list).
"""

from __future__ import annotations

from typing import Any

import orjson
from apputil import TINY, TestClient, wait_for

from app.protocol import decode_quantised_snapshot
from engine.catalog import catalog

SPEC = {**TINY, "rule": "eprop", "steps": 100_000}
RULE = "eprop"


def _description(rule: str) -> str:
    return next(r["description"] for r in catalog()["rules"] if r["name"] == rule)


def _without_options(room: dict[str, Any]) -> dict[str, Any]:
    """The room view less the guess poll's option labels (the choices are rule names by design)."""
    return {**room, "polls": [{k: v for k, v in p.items() if k != "options"} for p in room["polls"]]}


def _relay(client: TestClient, code: str, frames: int = 2) -> list[Any]:
    """What a seat of the room's relay receives: JSON messages and decoded snapshot headers."""
    got: list[Any] = []
    relays = client.app.state.rooms.relays  # type: ignore[attr-defined]
    with client.websocket_connect(f"/ws/rooms/{code}/run?view=phone") as ws:
        snapshots = 0
        while snapshots < frames or not any(m.get("type") == "metrics" for m in got if isinstance(m, dict)):
            message = ws.receive()
            if message.get("bytes") is not None:
                header, arrays = decode_quantised_snapshot(message["bytes"])
                got.append({"header": header, "names": sorted(arrays)})
                snapshots += 1
            else:
                got.append(orjson.loads(message["text"]))
        ws.close(1000)
        wait_for(lambda: not relays[code].seats, what="the relay to let the seat go")
    return got


def _run_doors(client: TestClient, run_id: str) -> dict[str, tuple[int, str]]:
    doors = {path: client.get(path) for path in (
        f"/api/runs/{run_id}", f"/api/runs/{run_id}/history", f"/api/runs/{run_id}/keyframes",
        f"/api/runs/{run_id}/frames/0", f"/replay/{run_id}", "/api/runs?public=true",
        *[f"/api/runs/{run_id}/export/{f}" for f in ("spec.json", "metrics.csv", "metrics.json", "weights.pt",
                                                     "report.html")])}
    doors[f"POST /api/runs/{run_id}/reopen"] = client.post(f"/api/runs/{run_id}/reopen", json={})
    out = {k.replace(run_id, "{id}"): (r.status_code, r.content.decode("utf-8", "replace")) for k, r in doors.items()}
    with client.websocket_connect(f"/ws/runs/{run_id}") as ws:
        message = ws.receive()
    out["ws"] = (message.get("code", 0), orjson.dumps(message).decode())
    return out


def test_a_hidden_rule_is_named_nowhere_an_audience_member_can_look_until_the_reveal(client: TestClient) -> None:
    r = client.post("/api/rooms", json={"title": "Guess the rule"})
    room = r.json()
    code, presenter = room["code"], {"Authorization": f"Bearer {room['presenter_token']}"}
    refused = client.post(f"/api/rooms/{code}/guess", json={"spec": SPEC, "options": ["bptt", "rflo"]},
                          headers=presenter)
    assert refused.status_code == 422 and "options" in refused.text
    started = client.post(f"/api/rooms/{code}/guess", json={"spec": SPEC}, headers=presenter)
    assert started.status_code == 201, started.text
    run_id, poll = started.json()["run"], started.json()["poll"]
    assert RULE in poll["options"] and poll["state"] == "open" and poll["kind"] == "prediction"
    # the presenter (the run's owner) sees everything; the run trains
    assert client.get(f"/api/runs/{run_id}", headers=presenter).json()["spec"]["rule"] == RULE
    wait_for(lambda: client.get(f"/api/runs/{run_id}", headers=presenter).json()["step"] > 3, 90,
             "the hidden run to train")

    client.cookies.clear()  # an audience member from here on
    seen: list[Any] = []
    view = client.get(f"/api/rooms/{code}").json()
    assert view["shown"] == {"kind": "guess", "poll": poll["id"], "hidden": True}
    seen.append(_without_options(view))
    seen.append(client.get(f"/rooms/{code}").text)
    with client.websocket_connect(f"/ws/rooms/{code}") as ws:
        seen.append(_without_options(ws.receive_json()["room"]))
    relayed = _relay(client, code)
    seen.append(relayed)
    hello = next(m for m in relayed if isinstance(m, dict) and m.get("type") == "hello")
    assert hello["run"]["hidden"] is True and hello["run"]["spec"]["arch"] == "rnn"
    snapshot = next(m for m in relayed if "header" in m)
    assert "example.activity" in snapshot["names"] and any(n.startswith("weights.") for n in snapshot["names"])
    assert not any(n.startswith("signals.") for n in snapshot["names"])
    doors = _run_doors(client, run_id)
    for door, (code_, _) in doors.items():
        assert code_ in (200, 404, 4404), (door, code_)
    assert doors["/api/runs/{id}"][0] == 404 and doors["ws"][0] == 4404
    seen.append(doors)
    blob = orjson.dumps(seen).decode().lower()
    assert RULE not in blob and _description(RULE).lower() not in blob
    assert run_id not in blob.replace(f"no run with id '{run_id}'", "")  # only in the refusals it answered

    # the reveal: the answer beside the votes, and the run's doors open again
    assert client.post(f"/api/rooms/{code}/polls/{poll['id']}/votes", json={"value": 0}).status_code == 200
    assert client.post(f"/api/rooms/{code}/guess/reveal").status_code == 403  # only the presenter reveals
    revealed = client.post(f"/api/rooms/{code}/guess/reveal", headers=presenter)
    assert revealed.status_code == 200, revealed.text
    client.cookies.clear()
    view = client.get(f"/api/rooms/{code}").json()
    assert view["shown"]["rule"] == RULE and view["shown"]["id"] == run_id
    guess = view["polls"][0]
    assert guess["options"][guess["answer"]["option"]] == RULE and guess["results"]["count"] == 1
    hello = next(m for m in _relay(client, code, frames=1) if isinstance(m, dict) and m.get("type") == "hello")
    assert hello["run"]["spec"]["rule"] == RULE
    assert client.get(f"/api/runs/{run_id}").json()["spec"]["rule"] == RULE
    assert client.post(f"/api/rooms/{code}/guess/reveal", headers=presenter).status_code == 409

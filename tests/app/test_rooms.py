"""Rooms over HTTP: create and join, presenter-only changes, polls and votes, CSV, rate limits, a restart, the QR
code (decoded), and the room websocket's broadcast."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import numpy as np
import pytest
from apputil import TINY, TestClient, make_settings, wait_for

from app.main import create_app
from app.rooms import access
from app.rooms.room import first_to_reach


def new_run(client: TestClient) -> dict[str, Any]:
    """A run the manager knows, without a worker (rooms only need it to exist and to have a history)."""
    manager = client.app.state.manager  # type: ignore[attr-defined]
    run = manager._new_run(f"r{len(manager.runs)}x{id(manager) % 997}", TINY)
    manager.runs[run.id] = run
    return {"id": run.id}


def make_room(client: TestClient, **body: Any) -> dict[str, Any]:
    r = client.post("/api/rooms", json={"title": "Credit assignment", **body})
    assert r.status_code == 201, r.text
    return r.json()


def auth(room: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {room['presenter_token']}"}


def audience(client: TestClient) -> TestClient:
    """The same app seen from another browser: no presenter cookie, a participant id of its own."""
    client.cookies.clear()
    return client


def add_poll(client: TestClient, room: dict[str, Any], **poll: Any) -> dict[str, Any]:
    r = client.post(f"/api/rooms/{room['code']}/polls", json=poll, headers=auth(room))
    assert r.status_code == 201, r.text
    opened = client.post(f"/api/rooms/{room['code']}/polls/{r.json()['id']}/actions/open", headers=auth(room))
    assert opened.status_code == 200, opened.text
    return opened.json()


def test_a_room_has_a_short_code_a_join_url_and_a_presenter_token_never_in_the_url(client: TestClient) -> None:
    room = make_room(client)
    assert re.fullmatch(r"[A-HJ-NP-Z2-9]{6}", room["code"])
    assert room["join_url"].endswith(f"/rooms/{room['code']}")
    assert room["presenter_token"] not in room["join_url"] + room["present_url"] + room["qr_url"]
    assert client.cookies.get(access.presenter_cookie(room["code"])) == room["presenter_token"]
    seen = client.get(f"/api/rooms/{room['code']}").json()
    assert seen["presenter"] is True and seen["title"] == "Credit assignment" and seen["shown"] is None
    assert audience(client).get(f"/api/rooms/{room['code']}").json()["presenter"] is False
    assert client.get("/api/rooms/ZZZZZZ").status_code == 404
    assert client.post("/api/rooms", json={"title": ""}).status_code == 422


def test_only_the_presenter_changes_the_room(client: TestClient) -> None:
    room = make_room(client)
    code = room["code"]
    run = new_run(client)
    poll = add_poll(client, room, kind="choice", question="Which rule?", options=["BPTT", "e-prop"])
    audience(client)
    before = client.get(f"/api/rooms/{code}").json()
    stranger = {"Authorization": f"Bearer {access.mint()}"}
    for headers in ({}, stranger):
        refused = [
            client.put(f"/api/rooms/{code}/shown", json={"shown": {"kind": "run", "id": run["id"]}}, headers=headers),
            client.post(f"/api/rooms/{code}/polls", json={"kind": "choice", "question": "q", "options": ["a", "b"]},
                        headers=headers),
            *[client.post(f"/api/rooms/{code}/polls/{poll['id']}/actions/{a}", headers=headers)
              for a in ("close", "reveal", "open", "hide")],
            client.post(f"/api/rooms/{code}/polls/{poll['id']}/resolve", json={"option": 0}, headers=headers),
            client.get(f"/api/rooms/{code}/polls/{poll['id']}/votes.csv", headers=headers),
        ]
        assert [r.status_code for r in refused] == [403] * len(refused)
    after = client.get(f"/api/rooms/{code}").json()
    assert after == before  # nothing changed
    ok = client.put(f"/api/rooms/{code}/shown", json={"shown": {"kind": "run", "id": run["id"]}}, headers=auth(room))
    assert ok.status_code == 200 and client.get(f"/api/rooms/{code}").json()["shown"] == {"kind": "run",
                                                                                       "id": run["id"]}
    unknown = client.put(f"/api/rooms/{code}/shown", json={"shown": {"kind": "run", "id": "nope"}},
                         headers=auth(room))
    assert unknown.status_code == 404 and "shown.id" in unknown.text
    bad = client.put(f"/api/rooms/{code}/shown", json={"shown": {"kind": "video", "id": "x"}}, headers=auth(room))
    assert bad.status_code == 422


def test_a_room_shows_a_comparison_or_a_lesson_that_exists(client: TestClient) -> None:
    room = make_room(client, title="Lesson day")
    code = room["code"]
    members = [{"rule": "bptt"}, {"rule": "readout"}]
    base = {k: v for k, v in TINY.items() if k != "rule"}
    cmp = client.post("/api/comparisons", json={"base": base, "members": members}).json()
    for shown in ({"kind": "comparison", "id": cmp["id"]}, {"kind": "lesson", "name": "fixed-circuit"}):
        ok = client.put(f"/api/rooms/{code}/shown", json={"shown": shown}, headers=auth(room))
        assert ok.status_code == 200, ok.text
        assert client.get(f"/api/rooms/{code}").json()["shown"] == shown
    for shown, field in (({"kind": "comparison", "id": "nope"}, "shown.id"),
                         ({"kind": "lesson", "name": "no-such-lesson"}, "shown.name")):
        missing = client.put(f"/api/rooms/{code}/shown", json={"shown": shown}, headers=auth(room))
        assert missing.status_code == 404 and field in missing.text
    assert client.get(f"/api/rooms/{code}").json()["shown"] == {"kind": "lesson", "name": "fixed-circuit"}
    other = audience(client)
    assert other.put(f"/api/rooms/{code}/shown", json={"shown": {"kind": "comparison", "id": cmp["id"]}}
                     ).status_code == 403  # the audience cannot


def test_a_password_is_checked_before_anything_of_the_room_is_shown(client: TestClient) -> None:
    room = make_room(client, password="synapse")
    code = room["code"]
    assert client.get(f"/api/rooms/{code}").status_code == 200  # the presenter needs no password
    audience(client)
    for path in (f"/api/rooms/{code}", f"/api/rooms/{code}/qr.svg"):
        r = client.get(path)
        assert r.status_code == 403 and "Credit assignment" not in r.text
    with client.websocket_connect(f"/ws/rooms/{code}") as ws:
        with pytest.raises(Exception) as closed:
            ws.receive_text()
    assert getattr(closed.value, "code", None) == 4403
    assert client.post(f"/api/rooms/{code}/join", json={"password": "wrong"}).status_code == 403
    assert client.post(f"/api/rooms/{code}/join", json={}).status_code == 403
    assert client.post(f"/api/rooms/{code}/join", json={"password": "synapse"}).status_code == 200
    assert client.get(f"/api/rooms/{code}").json()["title"] == "Credit assignment"
    mine = dict(client.cookies)
    audience(client)  # another browser, holding a copy of only the admission cookie, is not admitted
    client.cookies.set(access.admission_cookie(code), mine[access.admission_cookie(code)])
    assert client.get(f"/api/rooms/{code}").status_code == 403


def test_votes_one_per_participant_replaced_validated_and_exported(client: TestClient) -> None:
    room = make_room(client)
    code = room["code"]
    slider = add_poll(client, room, kind="slider", question="How <script>alert(1)</script> local?")
    choice = add_poll(client, room, kind="choice", question="Which?", options=["a", "b", "c"])
    url = f"/api/rooms/{code}/polls"
    voters = []
    for i, value in enumerate([10, 55.5, 90]):
        audience(client)
        assert client.post(f"{url}/{slider['id']}/votes", json={"value": value}).json()["replaced"] is False
        assert client.post(f"{url}/{choice['id']}/votes", json={"value": i % 2}).status_code == 200
        voters.append(dict(client.cookies))
    again = client.post(f"{url}/{slider['id']}/votes", json={"value": 20})
    assert again.json()["replaced"] is True
    assert client.get(f"/api/rooms/{code}").json()["my_votes"] == {slider["id"]: 20.0, choice["id"]: 0}
    errors = {
        "unknown poll": (client.post(f"{url}/nopoll/votes", json={"value": 1}), 404),
        "out of range": (client.post(f"{url}/{slider['id']}/votes", json={"value": 101}), 422),
        "not an option": (client.post(f"{url}/{choice['id']}/votes", json={"value": 3}), 422),
        "not an index": (client.post(f"{url}/{choice['id']}/votes", json={"value": 0.5}), 422),
        "a string": (client.post(f"{url}/{choice['id']}/votes", json={"value": "a"}), 422),
        "extra field": (client.post(f"{url}/{choice['id']}/votes", json={"value": 1, "x": 1}), 422),
        "not JSON": (client.post(f"{url}/{choice['id']}/votes", content=b"{", headers={"content-type":
                                                                                       "application/json"}), 422),
    }
    for what, (r, want) in errors.items():
        assert r.status_code == want, (what, r.text)
    # audience sees no results until revealed
    polls = {p["id"]: p for p in client.get(f"/api/rooms/{code}").json()["polls"]}
    assert "results" not in polls[slider["id"]] and polls[slider["id"]]["votes"] == 3
    client.cookies.clear()
    client.cookies.set(access.presenter_cookie(code), room["presenter_token"])
    live = {p["id"]: p for p in client.get(f"/api/rooms/{code}").json()["polls"]}
    assert live[slider["id"]]["results"]["values"] == [10.0, 20.0, 55.5]
    assert live[choice["id"]]["results"]["counts"] == [2, 1, 0]
    assert client.post(f"{url}/{slider['id']}/actions/close").status_code == 200
    assert client.post(f"{url}/{slider['id']}/actions/close").status_code == 409
    assert client.post(f"{url}/{slider['id']}/actions/reveal").status_code == 200
    audience(client)
    late = client.post(f"{url}/{slider['id']}/votes", json={"value": 50})
    assert late.status_code == 409 and "closed" in late.text
    shown = {p["id"]: p for p in client.get(f"/api/rooms/{code}").json()["polls"]}
    assert shown[slider["id"]]["results"]["values"] == [10.0, 20.0, 55.5]  # revealed; the late vote not stored
    assert "results" not in shown[choice["id"]]
    r = client.get(f"{url}/{choice['id']}/votes.csv", headers=auth(room))
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert r.headers["content-type"].startswith("text/csv") and [row["label"] for row in rows] == ["a", "b", "a"]
    assert all(v[access.PARTICIPANT_COOKIE] not in r.text for v in voters)  # pseudonyms, not the cookies


def test_bad_polls_are_refused_naming_the_field(client: TestClient) -> None:
    room = make_room(client)
    url = f"/api/rooms/{room['code']}/polls"
    for body, field in [({"kind": "choice", "question": "q", "options": ["only"]}, "options"),
                        ({"kind": "slider", "question": "q", "low": 5, "high": 5}, "low"),
                        ({"kind": "dice", "question": "q"}, "kind"),
                        ({"kind": "choice", "question": "", "options": ["a", "b"]}, "question")]:
        r = client.post(url, json=body, headers=auth(room))
        assert r.status_code == 422 and field in r.text, (body, r.text)
    r = client.post(f"{url}/nopoll/actions/open", headers=auth(room))
    assert r.status_code == 404
    r = client.post(f"{url}/nopoll/actions/explode", headers=auth(room))
    assert r.status_code == 422


def test_votes_and_joins_are_rate_limited_per_participant(client: TestClient) -> None:
    room = make_room(client)
    poll = add_poll(client, room, kind="slider", question="q")
    audience(client)
    codes = [client.post(f"/api/rooms/{room['code']}/polls/{poll['id']}/votes", json={"value": v}).status_code
             for v in range(30)]
    assert codes[:10] == [200] * 10 and 429 in codes
    audience(client)  # someone else is not limited by the first one's votes
    assert client.post(f"/api/rooms/{room['code']}/polls/{poll['id']}/votes", json={"value": 1}).status_code == 200
    joins = [client.post(f"/api/rooms/{room['code']}/join", json={}).status_code for _ in range(20)]
    assert joins[:10] == [200] * 10 and 429 in joins


def test_a_prediction_is_resolved_by_the_run_that_reaches_the_target_first() -> None:
    slow = [{"step": 1, "accuracy": 0.2}, {"step": 5, "accuracy": 0.95}]
    fast = [{"step": 1, "accuracy": 0.5}, {"step": 3, "accuracy": 0.91}, {"step": 4, "accuracy": None}]
    never = [{"step": 1, "accuracy": 0.3}]
    assert first_to_reach([slow, fast, never], "accuracy", 0.9) == {
        "option": 1, "steps": [5, 3, None], "metric": "accuracy", "target": 0.9}


def test_resolving_a_prediction_over_http(client: TestClient) -> None:
    room = make_room(client)
    url = f"/api/rooms/{room['code']}/polls"
    pred = add_poll(client, room, kind="prediction", question="Which first?", options=["BPTT", "readout"])
    choice = add_poll(client, room, kind="choice", question="q", options=["a", "b"])
    runs = [new_run(client)["id"], new_run(client)["id"]]
    r = client.post(f"{url}/{pred['id']}/resolve", json={"runs": runs, "target": 0.9}, headers=auth(room))
    assert r.status_code == 409 and "reached" in r.text  # not yet trained: nothing reached it
    assert client.post(f"{url}/{pred['id']}/resolve", json={"runs": runs[:1] + ["x"]},
                       headers=auth(room)).status_code == 404
    assert client.post(f"{url}/{pred['id']}/resolve", json={}, headers=auth(room)).status_code == 422
    assert client.post(f"{url}/{choice['id']}/resolve", json={"option": 0}, headers=auth(room)).status_code == 409
    state = client.app.state  # type: ignore[attr-defined]
    state.manager.get(runs[0]).history = [{"step": 9, "accuracy": 0.92}]
    state.manager.get(runs[1]).history = [{"step": 4, "accuracy": 0.95}]
    done = client.post(f"{url}/{pred['id']}/resolve", json={"runs": runs}, headers=auth(room))
    assert done.status_code == 200, done.text
    answer = done.json()["answer"]
    assert answer["option"] == 1 and answer["steps"] == [9, 4] and answer["runs"] == runs
    assert done.json()["state"] == "closed" and done.json()["revealed"] is True
    assert client.post(f"{url}/{pred['id']}/resolve", json={"option": 0}, headers=auth(room)).status_code == 409


def test_rooms_polls_and_votes_survive_a_restart(tmp_path: Any) -> None:
    settings = make_settings(tmp_path)
    with TestClient(create_app(settings)) as client:
        room = make_room(client, password="pw")
        run = new_run(client)
        client.put(f"/api/rooms/{room['code']}/shown", json={"shown": {"kind": "run", "id": run["id"]}},
                   headers=auth(room))
        poll = add_poll(client, room, kind="slider", question="How much?", labels=["none", "some", "all"])
        audience(client)
        client.post(f"/api/rooms/{room['code']}/join", json={"password": "pw"})
        client.post(f"/api/rooms/{room['code']}/polls/{poll['id']}/votes", json={"value": 42})
        client.post(f"/api/rooms/{room['code']}/polls/{poll['id']}/votes", json={"value": 43})
        cookies = dict(client.cookies)
        before = client.get(f"/api/rooms/{room['code']}", headers=auth(room)).json()
    with TestClient(create_app(settings)) as client:
        for k, v in cookies.items():
            client.cookies.set(k, v)
        after = client.get(f"/api/rooms/{room['code']}", headers=auth(room)).json()
        assert after["polls"] == before["polls"] and after["shown"] == before["shown"]
        assert after["polls"][0]["results"]["values"] == [43.0] and after["polls"][0]["labels"] == ["none", "some",
                                                                                                     "all"]
        assert client.get(f"/api/rooms/{room['code']}").json()["my_votes"] == {poll["id"]: 43.0}  # still admitted
        r = client.post(f"/api/rooms/{room['code']}/polls/{poll['id']}/actions/close", headers=auth(room))
        assert r.status_code == 200  # the presenter token still works


def test_the_qr_code_decodes_to_the_join_url(client: TestClient) -> None:
    import zxingcpp

    from app.rooms.qr import qr_matrix

    room = make_room(client)
    svg = client.get(f"/api/rooms/{room['code']}/qr.svg")
    assert svg.status_code == 200 and svg.headers["content-type"].startswith("image/svg+xml")
    assert svg.text.lstrip().startswith("<?xml") and "<svg" in svg.text
    assert "<script" not in svg.text and "href" not in svg.text  # self-contained: nothing fetched
    modules = _modules_from_svg(svg.text)
    assert modules.tolist() == qr_matrix(room["join_url"])  # the SVG draws exactly this code
    image = np.pad((1 - modules) * 255, 4, constant_values=255).repeat(6, 0).repeat(6, 1).astype(np.uint8)
    (found,) = zxingcpp.read_barcodes(image)
    assert found.text == room["join_url"]


def _modules_from_svg(svg: str) -> np.ndarray:
    """Rasterise segno's SVG path (``M x y`` moves, ``h``/``m`` relative runs, half-module y offsets) back into
    modules, without the 4-module quiet zone."""
    path = re.search(r'class="qrline"[^>]* d="([^"]+)"', svg).group(1)  # type: ignore[union-attr]
    size = int(re.search(r'width="(\d+)"', svg).group(1)) // 8  # type: ignore[union-attr]
    grid = np.zeros((size, size), dtype=np.uint8)
    x = y = 0.0
    for op, a, b in re.findall(r"([MmHhVv])\s*(-?[\d.]+)(?:\s+(-?[\d.]+))?", path):
        a = float(a)
        if op == "M":
            x, y = a, float(b)
        elif op == "m":
            x, y = x + a, y + float(b)
        elif op == "h":
            if a > 0:
                grid[int(y), int(x):int(x + a)] = 1
            x += a
    return grid[4:-4, 4:-4]


def test_the_room_socket_broadcasts_changes_and_answers_bad_messages(client: TestClient) -> None:
    room = make_room(client)
    code = room["code"]
    run = new_run(client)
    with client.websocket_connect(f"/ws/rooms/{code}") as presenter:
        first = presenter.receive_json()
        assert first["type"] == "room" and first["room"]["shown"] is None
        poll = add_poll(client, room, kind="slider", question="q")
        client.put(f"/api/rooms/{code}/shown", json={"shown": {"kind": "run", "id": run["id"]}}, headers=auth(room))
        audience(client)
        with client.websocket_connect(f"/ws/rooms/{code}") as viewer:
            seen = viewer.receive_json()
            assert seen["room"]["shown"] == {"kind": "run", "id": run["id"]}
            assert "results" not in seen["room"]["polls"][0]
            client.post(f"/api/rooms/{code}/polls/{poll['id']}/votes", json={"value": 77})

            def tally() -> Any:
                frame = presenter.receive_json()
                return frame["room"]["polls"] and frame["room"]["polls"][0].get("results", {}).get("values")
            assert wait_for(tally, what="the vote's tally on the presenter's socket") == [77.0]
            for bad in ("not json", '{"type": "vote"}', "x" * 5000):
                viewer.send_text(bad)
                reply = viewer.receive_json()
                while reply["type"] == "room":
                    reply = viewer.receive_json()
                assert reply["type"] == "error"
            viewer.send_text('{"type": "ping"}')
            reply = viewer.receive_json()
            while reply["type"] == "room":
                reply = viewer.receive_json()
            assert reply["type"] == "pong"
    with client.websocket_connect("/ws/rooms/ZZZZZZ") as ws:
        with pytest.raises(Exception) as closed:
            ws.receive_text()
    assert getattr(closed.value, "code", None) == 4404

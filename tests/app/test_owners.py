"""A link to a run is a watch link: only the owner's token controls it, over HTTP and the websocket; the list of
runs is per owner; websockets from other web pages are refused; the token never leaks to watchers."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from app.main import create_app
from app.origins import origin_allowed
from app.owners import digest, is_owner, mint, well_formed
from app.protocol import SERVER_MESSAGE
from apputil import AUTH, OWNER, TINY, control, make_settings, ready_run, run_info, wait_for, watch

pytestmark = pytest.mark.timeout(120)

CONTROLS: list[tuple[str, float | None]] = [("play", None), ("pause", None), ("step", None), ("reset", None),
                                            ("stop", None), ("speed", 5.0), ("lr", 0.5)]
STRANGER = {"Authorization": f"Bearer {mint()}"}


@pytest.fixture
def settings(tmp_path: Any) -> Any:
    """These tests send many controls in a row: lift the per-connection rate limit (tested in test_hub)."""
    return make_settings(tmp_path, control_rate=1000.0)


def _state(client: TestClient, run_id: str) -> dict[str, Any]:
    info = run_info(client, run_id)
    return {k: info[k] for k in ("status", "step", "history", "lr", "speed", "spec", "message")}


def _stepped_run(client: TestClient) -> str:
    run_id = ready_run(client)["id"]
    for _ in range(2):
        assert control(client, run_id, "step").status_code == 200
    return run_id


def test_creating_a_run_mints_or_reuses_the_owner_token(client: TestClient) -> None:
    fresh = client.post("/api/runs", json=TINY)
    assert fresh.status_code == 201 and well_formed(fresh.json()["owner_token"])
    again = client.post("/api/runs", json=TINY, headers=AUTH).json()
    assert again["owner_token"] == OWNER
    assert client.post("/api/runs", json=TINY, headers={"Authorization": "Bearer short"}).status_code == 401


def test_watchers_get_403_for_every_control_and_nothing_changes(client: TestClient) -> None:
    run_id = _stepped_run(client)
    before = _state(client, run_id)
    for headers in ({}, STRANGER, {"Authorization": f"Basic {OWNER}"}):
        for action, value in CONTROLS:
            r = control(client, run_id, action, value, headers=headers)
            assert r.status_code == 403, (headers, action, r.text)
            assert "owner" in r.json()["detail"]
    assert _state(client, run_id) == before
    assert run_info(client, run_id)["status"] == "paused"  # not stopped, not reset
    r = control(client, run_id, "step")  # the owner still can
    assert r.status_code == 200 and r.json()["step"] == 3


def test_watchers_get_forbidden_frames_over_the_websocket(client: TestClient) -> None:
    run_id = _stepped_run(client)
    before = _state(client, run_id)
    with watch(client, run_id, headers={}) as reader:
        reader.until(lambda m: m["type"] == "hello")
        for action, value in CONTROLS:
            body: dict[str, Any] = {"type": "control", "action": action, "token": mint()}
            if value is not None:
                body["value"] = value
            for message in (body, {k: v for k, v in body.items() if k != "token"}):
                reader.ws.send_json(message)
                error = reader.until(lambda m: m["type"] == "error")
                assert error["code"] == "forbidden" and "owner" in error["message"], (message, error)
        reader.ws.send_json({"type": "auth", "token": mint()})
        assert reader.until(lambda m: m["type"] == "auth") == {"type": "auth", "owner": False}
        reader.ws.send_json({"type": "control", "action": "play"})
        assert reader.until(lambda m: m["type"] == "error")["code"] == "forbidden"
        assert _state(client, run_id) == before

        reader.ws.send_json({"type": "auth", "token": OWNER})  # the owner, in the same tab, once per connection
        assert reader.until(lambda m: m["type"] == "auth") == {"type": "auth", "owner": True}
        reader.ws.send_json({"type": "control", "action": "step"})
        assert [r["step"] for r in reader.until(lambda m: m["type"] == "metrics")["records"]] == [3]
    for m in reader.texts:
        SERVER_MESSAGE.validate_python(m)


def test_the_owner_controls_with_the_token_in_the_message(client: TestClient) -> None:
    run_id = ready_run(client)["id"]
    with watch(client, run_id, headers={}) as reader:
        reader.until(lambda m: m["type"] == "hello")
        reader.ws.send_json({"type": "control", "action": "step", "token": OWNER})
        assert [r["step"] for r in reader.until(lambda m: m["type"] == "metrics")["records"]] == [1]
        reader.ws.send_json({"type": "control", "action": "stop", "token": OWNER})
        reader.until(lambda m: m["type"] == "status" and m["status"] == "stopped")


def test_the_list_holds_only_the_callers_runs(client: TestClient) -> None:
    mine = ready_run(client)["id"]
    other = client.post("/api/runs", json=TINY).json()
    listed = lambda headers: [r["id"] for r in client.get("/api/runs", headers=headers).json()]  # noqa: E731
    assert listed(AUTH) == [mine]
    assert listed({"Authorization": f"Bearer {other['owner_token']}"}) == [other["id"]]
    assert listed({}) == [] and listed(STRANGER) == []
    assert run_info(client, other["id"])["id"] == other["id"]  # but any run can be watched by its link


def test_the_token_never_reaches_watchers(client: TestClient) -> None:
    run_id = ready_run(client)["id"]
    secrets = (OWNER, digest(OWNER))
    with watch(client, run_id, headers={}) as reader:
        reader.until(lambda m: m["type"] == "hello")
        control(client, run_id, "play")
        reader.until(lambda m: m["type"] == "metrics")
        control(client, run_id, "stop")
        reader.until(lambda m: m["type"] == "status" and m["status"] == "stopped")
    texts = [client.get(f"/api/runs/{run_id}").text, client.get("/api/runs", headers=AUTH).text,
             *(str(m) for m in reader.texts), *(f.decode("latin-1") for f in reader.snapshots)]
    assert texts and not any(s in t for s in secrets for t in texts)
    assert "owner" not in run_info(client, run_id) and "owner_token" not in run_info(client, run_id)


def test_cross_origin_websockets_are_refused(tmp_path: Any) -> None:
    settings = make_settings(tmp_path, allowed_origins=["https://lab.example.org"])
    with TestClient(create_app(settings)) as client:  # serves http://testserver
        run_id = ready_run(client)["id"]
        for origin in ("http://evil.example", "http://testserver.evil.io", "null", "https://lab.example.org.evil.io"):
            with pytest.raises(WebSocketDisconnect) as refused:
                with client.websocket_connect(f"/ws/runs/{run_id}", headers={"origin": origin}):
                    pass
            assert refused.value.code == 1008, origin
        for headers in ({}, {"origin": "http://testserver"}, {"origin": "https://lab.example.org"}):
            with watch(client, run_id, headers=headers) as reader:
                assert reader.until(lambda m: m["type"] == "hello")["run"]["id"] == run_id
        wait_for(lambda: not client.app.state.manager.runs[run_id].hub.viewers)  # type: ignore[attr-defined]


def test_origin_rules() -> None:
    assert origin_allowed(None, "lab:8000", "ws", [])
    assert origin_allowed("http://lab:8000", "lab:8000", "ws", [])
    assert origin_allowed("https://lab.example", "lab.example", "ws", [])  # behind a TLS proxy
    assert origin_allowed("HTTPS://Lab.Example:443", "lab.example:443", "wss", [])
    assert not origin_allowed("http://lab:8001", "lab:8000", "ws", [])
    assert not origin_allowed("http://other", "lab", "ws", [])
    assert not origin_allowed("null", "lab", "ws", [])
    assert origin_allowed("http://other:81", "lab", "ws", ["http://OTHER:81/"[:-1]])


def test_runs_without_an_owner_are_watch_only() -> None:
    assert not is_owner(None, OWNER) and not is_owner(digest(OWNER), None)
    assert is_owner(digest(OWNER), OWNER) and not is_owner(digest(OWNER), mint())

"""The websocket: hello, play, metrics, pause, step, stop; bad input; snapshot frames; reconnects."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from app.protocol import SERVER_MESSAGE
from apputil import control, ready_run, run_info, watch

pytestmark = pytest.mark.timeout(120)


def test_play_pause_step_stop(client: TestClient) -> None:
    run_id = ready_run(client, steps=100_000)["id"]
    with watch(client, run_id) as reader:
        ws = reader.ws
        hello = reader.next()
        assert isinstance(hello, dict) and hello["type"] == "hello" and hello["history"] == []
        assert hello["run"]["status"] == "paused" and hello["run"]["viewers"] == 1

        ws.send_text('{"type":"control","action":"play"}')
        reader.until(lambda m: m["type"] == "status" and m["status"] == "running")
        reader.until(lambda m: m["type"] == "metrics" and m["records"][-1]["step"] >= 5)

        ws.send_text('{"type":"control","action":"pause"}')
        paused = reader.until(lambda m: m["type"] == "status" and m["status"] == "paused")
        n = paused["step"]
        steps = [r["step"] for r in reader.records()]
        assert steps == list(range(1, n + 1))  # every record, once, in order, all before the paused status

        # nothing trains while paused: the step count holds still for a while
        deadline = time.monotonic() + 0.3
        while time.monotonic() < deadline:
            assert run_info(client, run_id)["step"] == n

        ws.send_text('{"type":"control","action":"step"}')
        metrics = reader.until(lambda m: m["type"] == "metrics")
        assert [r["step"] for r in metrics["records"]] == [n + 1]
        assert 0 <= time.time() - metrics["recorded"] < 60  # stamped by the worker, for latency measurements
        header, _ = reader.until_snapshot()
        while header["step"] != n + 1:
            header, _ = reader.until_snapshot()

        ws.send_text('{"type":"control","action":"stop"}')
        stopped = reader.until(lambda m: m["type"] == "status" and m["status"] == "stopped")
        assert stopped["final"]["steps"] == n + 1
    for m in reader.texts:
        SERVER_MESSAGE.validate_python(m)  # every message matches its model


def test_unknown_run_closes_with_reason(client: TestClient) -> None:
    with client.websocket_connect("/ws/runs/nope") as ws:
        with pytest.raises(WebSocketDisconnect) as info:
            ws.receive_text()
    assert info.value.code == 4404 and "nope" in info.value.reason


def test_malformed_messages_get_error_frames(client: TestClient) -> None:
    run_id = ready_run(client)["id"]
    with watch(client, run_id) as reader:
        ws = reader.ws
        reader.until(lambda m: m["type"] == "hello")
        for bad in ("not json", '{"type":"dance"}', '{"type":"control","action":"fly"}',
                    '{"type":"control","action":"lr","value":99}', "[]"):
            ws.send_text(bad)
            error = reader.until(lambda m: m["type"] == "error")
            assert error["message"]
        ws.send_bytes(b"\x00\x01")
        assert "binary" in reader.until(lambda m: m["type"] == "error")["message"]
        ws.send_text('{"type":"control","action":"play"}')
        ws.send_text('{"type":"control","action":"step"}')  # refused while running: error, socket stays open
        assert "pause" in reader.until(lambda m: m["type"] == "error")["message"]
        reader.until(lambda m: m["type"] == "metrics")  # still streaming
    assert client.get("/healthz").status_code == 200


def test_snapshot_frame_layout(client: TestClient) -> None:
    run = ready_run(client)
    spec = run["spec"]
    with watch(client, run['id']) as reader:
        reader.until(lambda m: m["type"] == "hello")
        header, arrays = reader.until_snapshot()
    frame = reader.snapshots[-1]
    n = int.from_bytes(frame[:4], "little")
    assert (4 + n + (-(4 + n)) % 4) % 4 == 0
    assert header["type"] == "snapshot" and header["step"] == 0
    assert {"periods", "loss_kind", "cost"} <= set(header["meta"])
    for entry in header["arrays"]:
        assert entry["offset"] % 4 == 0
        assert entry["length"] == 4 * int(__import__("math").prod(entry["shape"]))
    h, T = spec["arch_config"]["hidden"], spec["task_config"]["steps"]
    assert arrays["weights.W_rec"].shape == (h, h)
    assert arrays["weights.W_rec_change"].shape == (h, h) and not arrays["weights.W_rec_change"].any()
    assert arrays["example.inputs"].shape == (T, 2) and arrays["example.mask"].shape == (T,)
    assert arrays["example.activity"].shape == (T, h) and arrays["example.outputs"].shape == (T, 2)


def test_reconnect_gets_full_history(client: TestClient) -> None:
    run_id = ready_run(client)["id"]
    for _ in range(4):
        control(client, run_id, "step")
    with watch(client, run_id) as reader:
        control(client, run_id, "play")
        reader.until(lambda m: m["type"] == "metrics")
    # the run kept going without viewers; a new viewer gets everything so far
    with watch(client, run_id) as reader:
        hello = reader.until(lambda m: m["type"] == "hello")
        steps = [r["step"] for r in hello["history"]]
        assert steps[:5] == [1, 2, 3, 4, 5] and steps == list(range(1, len(steps) + 1))


def test_reset_sends_a_fresh_hello(client: TestClient) -> None:
    run_id = ready_run(client)["id"]
    control(client, run_id, "step")
    with watch(client, run_id) as reader:
        ws = reader.ws
        assert len(reader.until(lambda m: m["type"] == "hello")["history"]) == 1
        ws.send_text('{"type":"control","action":"reset"}')
        hello = reader.until(lambda m: m["type"] == "hello")
        assert hello["history"] == []

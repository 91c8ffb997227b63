"""The room's relay of a run: quantised and thinned snapshots, bounded memory, stalled seats dropped."""

from __future__ import annotations

import asyncio
from typing import Any

import numpy as np

from app.protocol import decode_quantised_snapshot, dumps, encode_snapshot, quantise
from app.rooms.relay import BACKLOG, VIEWS, Relay, audience_frame
from app.runs.hub import Hub
from app.runs.run import Run

SPEC = {"task": "add", "arch": "rnn", "arch_config": {"hidden": 256}, "rule": "eprop", "rule_config": {},
        "optim": {"lr": 0.01}}


def snapshot(n: int, steps: int = 60, seed: int = 0) -> bytes:
    """A run's float32 frame shaped like a real one: recurrent weights, their change, an example trial, signals."""
    g = np.random.default_rng(seed)
    arrays = {"weights.W_rec": g.normal(size=(n, n)), "weights.W_rec_change": g.normal(size=(n, n)) * 1e-3,
              "weights.W_out": g.normal(size=(2, n)), "example.inputs": g.normal(size=(steps, 2)),
              "example.activity": np.tanh(g.normal(size=(steps, n))), "example.outputs": g.normal(size=(steps, 1)),
              "signals.eligibility": g.normal(size=(steps, n))}
    return encode_snapshot(7, {"periods": [], "loss_kind": "mse", "cost": {"state_bytes": 1}},
                           {k: v.astype(np.float32) for k, v in arrays.items()})


def test_quantised_arrays_are_within_half_a_step_and_survive_constants_and_nan() -> None:
    a = np.random.default_rng(1).normal(size=(40, 30)).astype(np.float32)
    data, lo, scale = quantise(a)
    back = lo + scale * np.frombuffer(data, np.uint8).reshape(a.shape)
    assert np.max(np.abs(back - a)) <= scale / 2 * 1.001  # Eq. Q1 (lo and scale to 7 digits)
    assert quantise(np.full((3, 3), 2.5))[1:] == (2.5, 1.0)
    data, lo, _ = quantise(np.array([np.nan, 1.0, 3.0]))
    assert lo == 1.0 and data[0] == 0


def test_an_audience_frame_is_thinned_quantised_and_much_smaller() -> None:
    for n in (32, 256):
        raw = snapshot(n)
        for name, view in VIEWS.items():
            frame = audience_frame(raw, view, hidden=False, sent=1.0)
            header, arrays = decode_quantised_snapshot(frame)
            assert arrays["weights.W_rec"].shape == (min(n, view.units),) * 2
            assert arrays["example.activity"].shape == (60, min(n, view.units))
            assert header["meta"]["sent"] == 1.0 and "signals.eligibility" in arrays
            assert len(frame) < len(raw) / 3, (n, name, len(frame), len(raw))
        hidden = decode_quantised_snapshot(audience_frame(raw, VIEWS["full"], hidden=True, sent=1.0))
        assert not any(k.startswith("signals.") for k in hidden[1])
    full = decode_quantised_snapshot(audience_frame(snapshot(32), VIEWS["full"], hidden=False, sent=0.0))[1]
    exact = snapshot(32)
    from app.protocol import decode_snapshot
    w = decode_snapshot(exact)[1]["weights.W_rec"]
    assert np.max(np.abs(full["weights.W_rec"] - w)) <= (w.max() - w.min()) / 255  # decoded within a step


class Stalled:
    """A browser that stopped reading: every send hangs."""

    def __init__(self) -> None:
        self.sent = 0
        self.closed: int | None = None

    async def send_text(self, text: str) -> None:
        self.sent += 1
        if self.sent > 1:
            await asyncio.sleep(3600)

    async def send_bytes(self, data: bytes) -> None:
        await asyncio.sleep(3600)

    async def receive(self) -> dict[str, Any]:
        await asyncio.sleep(3600)
        return {"type": "websocket.disconnect"}

    async def close(self, code: int = 1000, reason: str = "") -> None:
        self.closed = code


def test_a_seat_that_stops_reading_holds_bounded_memory_and_is_dropped() -> None:
    async def main() -> tuple[list[int], int, int | None, int]:
        hub = Hub(lambda: dumps({"type": "hello"}))
        run = Run("r1", SPEC, hub, status="running")
        relay = Relay(run, hidden=True, send_timeout=0.5)
        hub.make_hello = lambda: dumps({"type": "hello"})
        await asyncio.sleep(0.01)
        socket = Stalled()
        seat_task = asyncio.create_task(relay.serve(socket, VIEWS["phone"]))  # type: ignore[arg-type]
        await asyncio.sleep(0.01)
        sizes = []
        for i in range(2000):  # far more than the backlog, while the seat's first send hangs
            hub.publish_metrics(dumps({"type": "metrics", "diverged": False,
                                       "records": [{"step": i, "loss": 1.0, "accuracy": 0.5, "ms": 1.0}]}))
            if i % 100 == 0:
                hub.publish_snapshot(snapshot(64, seed=i))
            await asyncio.sleep(0)
            sizes.extend(len(s.metrics) for s in relay.seats)
        await asyncio.wait_for(seat_task, 5)
        relay.task.cancel()
        return sizes, len(relay.seats), socket.closed, len(hub.viewers)

    sizes, seats, closed, _ = asyncio.run(main())
    assert max(sizes) <= BACKLOG and seats == 0 and closed == 4408


def test_seats_get_only_what_they_draw_of_each_record() -> None:
    """Step, loss and accuracy at a chart's resolution: nothing rule-revealing, and a third of the bytes."""
    import orjson

    from app.rooms.relay import audience_records

    record = {"step": 7, "loss": 0.6930532455444336, "accuracy": 0.4375, "ms": 3.469,
              "alignment": {"recurrent": 0.866, "all": 0.98, "W_rec": 0.81}}
    for hidden in (False, True):
        (out,) = audience_records([record], hidden)
        assert out == {"step": 7, "loss": 0.69305, "accuracy": 0.4375}
    assert len(orjson.dumps(out)) < len(orjson.dumps(record)) / 2

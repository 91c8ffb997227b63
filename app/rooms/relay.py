"""The audience's copy of the run a room shows: one viewer of the run, re-served to every seat, smaller and safer.

The relay watches the run like any browser (it is one viewer of the run's hub, through :class:`Tap`, so the run
counts it and never pauses for lack of watchers) and serves each audience **seat** (``/ws/rooms/{code}/run``):

* ``{"type": "hello", "sent", "run": {...}, "history": [...]}`` on joining and after a reset or a reveal;
* ``{"type": "metrics", "sent", "records": [...]}`` as the run reports them; ``sent`` is when the relay got
  them from the run's hub (the same event-loop turn in which the manager got them from the worker), so a
  seat's latency is its receipt time minus ``sent`` (one host, one clock);
* ``{"type": "status", "sent", ...}`` (latest value only);
* binary snapshot frames, **quantised** (uint8 and a scale per array: app/protocol.py, Eq. Q1) and **thinned**
  to the seat's view (:data:`VIEWS`: at most ``units`` neurons per axis and ``steps`` time steps, at most one
  frame per ``interval`` seconds). Each view's frame is encoded once per snapshot, not once per seat.

A seat's memory is bounded whatever it does: a latest-value slot for status and snapshot, at most ``BACKLOG``
metrics messages (more, and they are replaced by a fresh hello), and a seat whose send takes longer than
``send_timeout`` is dropped (closed 4408).

**Hidden rule** (guess the rule, docs/rooms.md): while ``hidden``, what a seat gets is built from an allow-list
that names nothing of the rule: the run's task and network but no ``rule``, ``rule_config``, cost or message;
records with loss and accuracy only (no alignment with the true gradient, no time per update); snapshots with
activity, outputs and weights only (no learning signals). :meth:`Relay.reveal` lifts it.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson
from starlette.websockets import WebSocket

from app.protocol import decode_snapshot, dumps, encode_quantised_snapshot
from app.runs.history import thin
from app.runs.run import Run
from app.streams import close_quietly, received, serve_pair, write_loop

#: Metrics messages a seat may fall behind before its backlog is replaced by a fresh hello.
BACKLOG = 64
HELLO_POINTS = 500


@dataclass(frozen=True)
class View:
    units: int
    """At most this many neurons per axis (evenly spaced ones are kept)."""
    steps: int
    """At most this many time steps of the example trial."""
    interval: float
    """At least this many seconds between two snapshot frames."""


#: ``full``: a laptop; ``phone``: a small screen. Sized so that 300 seats of a 256-unit run fit in a classroom
#: network's 50 Mbit/s (docs/rooms.md, "Network budget").
VIEWS = {"full": View(units=48, steps=200, interval=0.5), "phone": View(units=32, steps=100, interval=1.0)}

_RUN_KEYS = ("status", "step", "speed", "created", "updated")
_SPEC_KEYS = ("task", "task_config", "arch", "arch_config", "batch", "steps", "seed")
_RECORD_KEYS = ("step", "loss", "accuracy")
_FINAL_KEYS = ("status", "steps", "loss", "accuracy", "last_loss", "last_accuracy")


def audience_run(info: dict[str, Any], hidden: bool) -> dict[str, Any]:
    """What a seat learns about the run: everything when the rule is shown, an allow-list when it is hidden."""
    if not hidden:
        return {k: v for k, v in info.items() if k != "viewers"}
    out = {k: info.get(k) for k in _RUN_KEYS}
    out["spec"] = {k: info["spec"][k] for k in _SPEC_KEYS if k in info["spec"]}
    final = info.get("final")
    out["final"] = {k: final.get(k) for k in _FINAL_KEYS} if final else None
    out["hidden"] = True
    return out


def _short(v: Any) -> Any:
    """A float to 5 significant digits (a chart's resolution), to keep the seats' stream small."""
    return float(f"{v:.5g}") if isinstance(v, float) else v


def audience_records(records: list[dict[str, Any]], hidden: bool) -> list[dict[str, Any]]:
    """What a seat draws of each record: the step, loss and accuracy (the audience page draws the loss curve; the
    rule-revealing numbers, alignment and time per update, are never needed there, hidden or not). Measured: about
    40 bytes a record instead of 115, which matters at 300 seats × 10 messages a second (docs/rooms.md)."""
    del hidden  # the same for both: nothing here names or betrays the rule
    return [{k: _short(r.get(k)) for k in _RECORD_KEYS} for r in records]


def _pick(n: int, cap: int) -> np.ndarray | slice:
    return slice(None) if n <= cap else np.linspace(0, n - 1, cap).round().astype(int)


def thin_array(name: str, a: np.ndarray, view: View) -> np.ndarray:
    """Evenly spaced rows/columns: axis 0 of an example or spiking array is time (``view.steps``), every other
    axis is neurons or channels (``view.units``)."""
    timed = name.startswith(("example.", "spiking."))
    for axis, n in enumerate(a.shape):
        cap = view.steps if (timed and axis == 0) else view.units
        a = a[(slice(None),) * axis + (_pick(n, cap),)]
    return a


def audience_frame(frame: bytes, view: View, hidden: bool, sent: float) -> bytes:
    """A run's float32 snapshot frame as a seat gets it: quantised, thinned, and without the rule if hidden."""
    header, arrays = decode_snapshot(frame)
    meta = {k: v for k, v in (header.get("meta") or {}).items() if k in ("periods", "loss_kind", "spiking")}
    meta["sent"] = sent  # the cost is in the hello and status (when the rule is shown), not in every frame
    keep = ("weights.", "example.", "spiking.") if hidden else ("weights.", "example.", "spiking.", "signals.")
    shown = {name: thin_array(name, a, view) for name, a in arrays.items() if name.startswith(keep)}
    return encode_quantised_snapshot(header["step"], meta, shown)


class Tap:
    """The relay's seat in the run's hub: a stand-in for a websocket whose sends are handed to the relay and
    which acknowledges every snapshot at once (so the hub always sends the newest)."""

    def __init__(self, relay: "Relay"):
        self.relay = relay
        self.inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    async def send_text(self, text: str) -> None:
        self.relay.on_text(text)

    async def send_bytes(self, data: bytes) -> None:
        self.relay.on_snapshot(data)
        self.inbox.put_nowait({"type": "websocket.receive", "text": '{"type": "ack"}'})

    async def receive(self) -> dict[str, Any]:
        return await self.inbox.get()

    async def close(self, code: int = 1000, reason: str = "") -> None:
        self.inbox.put_nowait({"type": "websocket.disconnect", "code": code})


class Seat:
    def __init__(self, websocket: WebSocket, view: View):
        self.websocket = websocket
        self.view = view
        self.resync = True
        self.metrics: deque[str] = deque()
        self.status: str | None = None
        self.seen = -1
        self.due = 0.0
        self.timer: asyncio.TimerHandle | None = None
        self.wake = asyncio.Event()
        self.wake.set()


class Relay:
    def __init__(self, run: Run, hidden: bool, *, send_timeout: float = 10.0):
        self.run = run
        self.hidden = hidden
        self.send_timeout = send_timeout
        self.seats: set[Seat] = set()
        self.loop = asyncio.get_running_loop()
        self.raw: bytes | None = None
        self.raw_sent = 0.0
        self.version = 0
        self._frames: dict[View, tuple[int, bytes]] = {}
        self._hellos = 0
        self._hello: tuple[Any, str] | None = None
        self.tap = Tap(self)
        self.task = asyncio.create_task(run.hub.serve(self.tap, self._refuse))  # type: ignore[arg-type]

    async def _refuse(self, message: Any) -> str | None:
        return None  # the tap sends nothing but acks

    # -- from the run's hub -------------------------------------------------------------------------------------
    def on_text(self, text: str) -> None:
        message = orjson.loads(text)
        kind = message.get("type")
        now = time.time()
        if kind == "hello":
            self._hellos += 1
            if self._hellos > 1:  # the run was reset: everyone starts again
                self._resync_all()
        elif kind == "metrics":
            out = dumps({"type": "metrics", "sent": now, "recorded": message.get("recorded"),
                         "diverged": message.get("diverged", False),
                         "records": audience_records(message["records"], self.hidden)})
            for seat in self.seats:
                if seat.resync:
                    continue
                if len(seat.metrics) >= BACKLOG:
                    seat.metrics.clear()
                    seat.resync = True
                else:
                    seat.metrics.append(out)
                seat.wake.set()
        elif kind == "status":
            out = dumps({"type": "status", "sent": now, "run": audience_run(self.run.info().model_dump(),
                                                                             self.hidden)})
            for seat in self.seats:
                seat.status = out
                seat.wake.set()

    def on_snapshot(self, frame: bytes) -> None:
        self.raw, self.raw_sent = frame, time.time()
        self.version += 1
        for seat in self.seats:
            seat.wake.set()

    # -- changes (thread-safe: routes may run in a worker thread) -------------------------------------------------
    def reveal(self) -> None:
        self.loop.call_soon_threadsafe(self._reveal)

    def _reveal(self) -> None:
        self.hidden = False
        self._frames.clear()
        self._resync_all()

    def retire(self) -> None:
        """The room shows something else: close every seat (its page reconnects to what is shown now)."""
        self.loop.call_soon_threadsafe(lambda: asyncio.ensure_future(self._retire()))

    async def _retire(self) -> None:
        self.task.cancel()
        for seat in list(self.seats):
            await close_quietly(seat.websocket, 4000, "the presenter shows something else now")

    def _resync_all(self) -> None:
        for seat in self.seats:
            seat.metrics.clear()
            seat.resync = True
            seat.seen = -1
            seat.wake.set()

    # -- one seat -----------------------------------------------------------------------------------------------
    def hello(self) -> str:
        """The hello for a seat, encoded once per state of the run (a room joining at once costs one)."""
        run = self.run
        key = (len(run.history), run.step, run.status, run.updated, self.hidden)
        if self._hello is None or self._hello[0] != key:
            info = run.info().model_dump()
            self._hello = (key, dumps({"type": "hello", "sent": time.time(), "run": audience_run(info, self.hidden),
                                       "history": audience_records(thin(run.history, HELLO_POINTS), self.hidden)}))
        return self._hello[1]

    def frame(self, view: View) -> bytes:
        cached = self._frames.get(view)
        if cached is None or cached[0] != self.version:
            assert self.raw is not None
            cached = (self.version, audience_frame(self.raw, view, self.hidden, self.raw_sent))
            self._frames[view] = cached
        return cached[1]

    async def serve(self, websocket: WebSocket, view: View) -> None:
        seat = Seat(websocket, view)
        self.seats.add(seat)
        try:
            ended = await serve_pair(self._write(seat), self._read(seat))
        finally:
            self.seats.discard(seat)
            if seat.timer is not None:
                seat.timer.cancel()
        if ended == "stalled":
            await close_quietly(websocket, 4408, "too slow: no frame was accepted in time")

    def _next(self, seat: Seat) -> str | bytes | None:
        if seat.resync:
            seat.resync = False
            seat.metrics.clear()
            seat.status = None
            return self.hello()
        if seat.metrics:
            return seat.metrics.popleft()
        if seat.status is not None:
            text, seat.status = seat.status, None
            return text
        if self.raw is not None and seat.seen != self.version:
            now = time.monotonic()
            if now < seat.due:
                if seat.timer is None:
                    seat.timer = self.loop.call_later(seat.due - now, self._due, seat)
                return None
            seat.seen, seat.due = self.version, now + seat.view.interval
            return self.frame(seat.view)
        return None

    @staticmethod
    def _due(seat: Seat) -> None:
        seat.timer = None
        seat.wake.set()

    async def _write(self, seat: Seat) -> str:
        return await write_loop(seat.websocket, seat.wake, lambda: self._next(seat), self.send_timeout)

    async def _read(self, seat: Seat) -> None:
        """A seat only listens; what it sends is read and dropped (so a chatty one cannot fill a buffer)."""
        async for _ in received(seat.websocket):
            pass

"""How does a room's broadcast hold up under an audience? N listeners on the room websocket while votes arrive.

Starts the real server (uvicorn, its own process, as bench/viewers.py does) on 127.0.0.1 at a free port, makes a
room with an open slider poll, connects N audience websockets plus the presenter's, then casts votes over HTTP
at ``--votes-per-s`` (each from its own participant) for ``--seconds``. Every vote changes the room, so every
listener should get a newer state soon after. Prints, for the audience: room frames/s per listener (median, p5),
latency from the server stamping a state (``sent``) to a listener receiving it (p50, p95; one host, one clock),
and for the presenter the same; the votes accepted; the server's CPU seconds and peak RSS. Bounded: at most 1000
listeners and 60 s; everything stops by itself.

The listeners and the voter share this one client process, and each vote waits for its answer, so on a small
machine the *client* sets the pace (compare the server's CPU s/s with 1.0): treat the numbers as lower bounds on
what the server can do.

    python bench/room_load.py [--listeners 50 200] [--seconds 5] [--votes-per-s 20]

``--run``: the room shows a running run instead, and the N listeners are audience seats of the room's relay
(``/ws/rooms/{code}/run``, app/rooms/relay.py). Reported: websocket frames/s per seat (all messages) and snapshot
frames/s (median, p5); latency from the worker sending a record (the ``recorded`` stamp of the metrics message, app/runs/worker.py) to
the seat's receipt (p50, p95), and for snapshots from the relay's ``sent`` stamp; bytes/s per
seat; the server's CPU and peak RSS; and the run's updates/s with N seats against the same run with one seat,
measured back to back.

``--fanout``: the server's share alone, in one process without sockets: N in-memory seats on a relay fed at the
worker's pace (10 metrics messages and 4 snapshots a second, a real 32- or 256-unit snapshot); reports the
seats' frames/s, the latency from the relay's stamp to the seat's send, and the CPU the fan-out took.

``--bytes``: a real snapshot's size at 32 and 256 units, as the run sends it (float32) and as each audience view
gets it (quantised, thinned), without a server.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any

import httpx
import orjson
from websockets.asyncio.client import connect

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from viewers import SERVER, free_port, wait_until  # noqa: E402  (the same server start as bench/viewers.py)


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))]


async def listen(url: str, headers: dict[str, str], stop: asyncio.Event, out: dict[str, Any],
                 ready: asyncio.Event, counter: list[int], n: int) -> None:
    async with connect(url, additional_headers=headers, max_size=2**22, compression=None) as ws:
        await ws.recv()  # the state at joining
        counter[0] += 1
        if counter[0] == n:
            ready.set()
        while not stop.is_set():
            try:
                text = await asyncio.wait_for(ws.recv(), timeout=0.2)
            except TimeoutError:
                continue
            now = time.time()
            msg = orjson.loads(text)
            if msg.get("type") == "room" and stop.is_set() is False and out["t0"] is not None:
                out["frames"] += 1
                out["lat"].append(now - msg["sent"])


def proc_stats(pid: int) -> tuple[float, float]:
    """(CPU seconds, peak RSS in MiB) of a process, from /proc."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    with open(f"/proc/{pid}/status") as f:
        peak = next(int(line.split()[1]) for line in f if line.startswith("VmHWM")) / 1024
    return cpu, peak


async def measure(base: str, n: int, seconds: float, votes_per_s: float, pid: int) -> dict[str, float]:
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        room = (await http.post("/api/rooms", json={"title": "load"})).json()
        auth = {"Authorization": f"Bearer {room['presenter_token']}"}
        poll = (await http.post(f"/api/rooms/{room['code']}/polls", json={"kind": "slider", "question": "q"},
                                headers=auth)).json()
        await http.post(f"/api/rooms/{room['code']}/polls/{poll['id']}/actions/open", headers=auth)
        ws_url = base.replace("http", "ws", 1) + f"/ws/rooms/{room['code']}"
        stop, ready = asyncio.Event(), asyncio.Event()
        outs = [{"frames": 0, "lat": [], "t0": None} for _ in range(n + 1)]
        counter = [0]
        tasks = [asyncio.create_task(listen(ws_url, auth if i == n else {}, stop, outs[i], ready, counter, n + 1))
                 for i in range(n + 1)]
        await asyncio.wait_for(ready.wait(), timeout=60)
        cpu0, _ = proc_stats(pid)
        for o in outs:
            o["t0"] = time.monotonic()
        accepted, t0, k = 0, time.monotonic(), 0
        while (elapsed := time.monotonic() - t0) < seconds:
            cookie = {"Cookie": f"creditlab_participant=bench{k:012d}padding"}
            r = await http.post(f"/api/rooms/{room['code']}/polls/{poll['id']}/votes", json={"value": k % 101},
                                headers=cookie)
            accepted += r.status_code == 200
            k += 1
            await asyncio.sleep(max(0.0, k / votes_per_s - (time.monotonic() - t0)))
        await asyncio.sleep(0.5)  # let the last states arrive
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        cpu1, peak = proc_stats(pid)
    audience, presenter = outs[:n], outs[n]
    rates = [o["frames"] / elapsed for o in audience]
    lat = [x for o in audience for x in o["lat"]]
    return {"listeners": n, "votes/s": accepted / elapsed, "frames/s median": statistics.median(rates),
            "frames/s p5": pct(rates, 0.05), "latency p50 ms": 1000 * pct(lat, 0.5),
            "latency p95 ms": 1000 * pct(lat, 0.95), "presenter frames/s": presenter["frames"] / elapsed,
            "presenter p95 ms": 1000 * pct(presenter["lat"], 0.95), "server CPU s/s": (cpu1 - cpu0) / elapsed,
            "server peak RSS MiB": peak}


async def seat(url: str, stop: asyncio.Event, out: dict[str, Any]) -> None:
    """One audience seat of the relay: counts frames and bytes, and the latency of every stamped message."""
    async with connect(url, max_size=2**24, compression=None) as ws:
        out["joined"] = True
        while not stop.is_set():
            try:
                data = await asyncio.wait_for(ws.recv(), timeout=0.2)
            except TimeoutError:
                continue
            now = time.time()
            if out["t0"] is None:
                continue
            out["frames"] += 1
            out["bytes"] += len(data)
            if isinstance(data, bytes):
                out["snapshots"] += 1
                n = int.from_bytes(data[:4], "little")  # the header only: the client must stay cheap
                out["snap_lat"].append(now - orjson.loads(data[4:4 + n])["meta"]["sent"])
            else:
                msg = orjson.loads(data)
                if msg.get("type") == "metrics":
                    out["lat"].append(now - (msg.get("recorded") or msg["sent"]))  # from the worker's record


async def steps_per_s(http: httpx.AsyncClient, run_id: str, auth: dict[str, str], seconds: float) -> float:
    a = (await http.get(f"/api/runs/{run_id}", headers=auth)).json()["step"]
    t = time.monotonic()
    await asyncio.sleep(seconds)
    b = (await http.get(f"/api/runs/{run_id}", headers=auth)).json()["step"]
    return (b - a) / (time.monotonic() - t)


async def measure_run(base: str, n: int, seconds: float, pid: int, hidden: int) -> dict[str, float]:
    spec = {"task": "add", "arch": "rnn", "arch_config": {"hidden": hidden}, "rule": "eprop", "steps": 10_000_000}
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        room = (await http.post("/api/rooms", json={"title": "load"})).json()
        code, auth = room["code"], {"Authorization": f"Bearer {room['presenter_token']}"}
        run = (await http.post("/api/runs", json=spec, headers=auth)).json()
        await http.put(f"/api/rooms/{code}/shown", json={"shown": {"kind": "run", "id": run["id"]}}, headers=auth)
        url = base.replace("http", "ws", 1) + f"/ws/rooms/{code}/run?view=full"
        stop = asyncio.Event()
        new = lambda: {"frames": 0, "snapshots": 0, "bytes": 0, "lat": [], "snap_lat": [], "t0": None,  # noqa: E731
                       "joined": False}
        first = new()
        tasks = [asyncio.create_task(seat(url, stop, first))]
        while (await http.get(f"/api/runs/{run['id']}", headers=auth)).json()["status"] != "paused":
            await asyncio.sleep(0.2)
        await http.post(f"/api/runs/{run['id']}/control", json={"action": "play"}, headers=auth)
        await asyncio.sleep(1.0)
        alone = await steps_per_s(http, run["id"], auth, seconds)
        outs = [new() for _ in range(n - 1)]
        tasks += [asyncio.create_task(seat(url, stop, o)) for o in outs]
        outs.append(first)
        t_join = time.monotonic()
        while not all(o["joined"] for o in outs) and time.monotonic() - t_join < 60:
            await asyncio.sleep(0.1)
        await asyncio.sleep(1.0)
        cpu0, _ = proc_stats(pid)
        t0 = time.monotonic()
        for o in outs:
            o["t0"] = t0
        watched = await steps_per_s(http, run["id"], auth, seconds)
        elapsed = time.monotonic() - t0
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        cpu1, peak = proc_stats(pid)
        await http.post(f"/api/runs/{run['id']}/control", json={"action": "stop"}, headers=auth)
    rates = [o["frames"] / elapsed for o in outs]
    snaps = [o["snapshots"] / elapsed for o in outs]
    lat = [x for o in outs for x in o["lat"]]
    snap_lat = [x for o in outs for x in o["snap_lat"]]
    return {"seats": n, "joined": sum(o["joined"] for o in outs), "frames/s median": statistics.median(rates),
            "frames/s p5": pct(rates, 0.05), "snapshots/s median": statistics.median(snaps),
            "snapshots/s p5": pct(snaps, 0.05), "records p50 ms": 1000 * pct(lat, 0.5),
            "records p95 ms": 1000 * pct(lat, 0.95), "snapshots p50 ms": 1000 * pct(snap_lat, 0.5),
            "snapshots p95 ms": 1000 * pct(snap_lat, 0.95),
            "kB/s per seat": statistics.median(o["bytes"] for o in outs) / elapsed / 1000,
            "server CPU s/s": (cpu1 - cpu0) / elapsed, "server peak RSS MiB": peak,
            "updates/s 1 seat": alone, "updates/s N seats": watched, "ratio": watched / alone if alone else 0.0}


class MemorySeat:
    """A seat's socket in memory: it notes when each frame was handed to it and to which stamp it belongs."""

    def __init__(self, log: list[tuple[float, Any]]):
        self.log = log

    async def send_text(self, text: str) -> None:
        self.log.append((time.time(), text))

    async def send_bytes(self, data: bytes) -> None:
        self.log.append((time.time(), data))

    async def receive(self) -> dict[str, Any]:
        await asyncio.sleep(3600)
        return {"type": "websocket.disconnect"}


async def fanout(n: int, seconds: float, units: int) -> dict[str, float]:
    from app.protocol import dumps, encode_snapshot, snapshot_arrays
    from app.rooms.relay import VIEWS, Relay
    from app.runs.hub import Hub
    from app.runs.run import Run
    from engine.spec import RunSpec, full_config, resolve
    from engine.training import Trainer

    spec = RunSpec(task="add", arch="rnn", arch_config={"hidden": units}, rule="eprop")
    trainer = Trainer(spec)
    trainer.train_step()
    snap = trainer.snapshot()
    frame = encode_snapshot(snap["step"], *snapshot_arrays(snap))
    hub = Hub(lambda: dumps({"type": "hello"}))
    run = Run("bench", full_config(resolve(spec)), hub, status="running")
    relay = Relay(run, hidden=False)
    logs: list[list[tuple[float, Any]]] = [[] for _ in range(n)]
    seats = [asyncio.create_task(relay.serve(MemorySeat(log), VIEWS["full"])) for log in logs]  # type: ignore[arg-type]
    await asyncio.sleep(0.5)
    for log in logs:
        log.clear()
    cpu0, t0, k = time.process_time(), time.monotonic(), 0
    while (elapsed := time.monotonic() - t0) < seconds:
        k += 1
        hub.publish_metrics(dumps({"type": "metrics", "diverged": False, "records": [
            {"step": k, "loss": 1.0 / k, "accuracy": 0.5, "ms": 2.0}]}))
        if k % 3 == 0:
            hub.publish_snapshot(frame)
        await asyncio.sleep(max(0.0, k / 10 - (time.monotonic() - t0)))
    await asyncio.sleep(0.6)
    cpu = time.process_time() - cpu0
    for task in seats:
        task.cancel()
    relay.task.cancel()
    stamps: dict[int, float] = {}

    def sent(data: Any) -> float:
        key = id(data)
        if key not in stamps:
            if isinstance(data, bytes):
                h = int.from_bytes(data[:4], "little")
                stamps[key] = orjson.loads(data[4:4 + h])["meta"]["sent"]
            else:
                stamps[key] = orjson.loads(data).get("sent", float("nan"))
        return stamps[key]

    lat = [t - sent(d) for log in logs for t, d in log if isinstance(d, str)]
    snap_lat = [t - sent(d) for log in logs for t, d in log if isinstance(d, bytes)]
    rates = [len(log) / elapsed for log in logs]
    return {"seats": n, "units": units, "frames/s median": statistics.median(rates), "frames/s p5": pct(rates, 0.05),
            "records p50 ms": 1000 * pct(lat, 0.5), "records p95 ms": 1000 * pct(lat, 0.95),
            "snapshots p95 ms": 1000 * pct(snap_lat, 0.95), "CPU s/s": cpu / elapsed}


def snapshot_bytes() -> None:
    """Sizes of a real snapshot (default task, rnn, e-prop) as sent to a run's viewers and to each audience view."""
    from app.protocol import encode_snapshot, snapshot_arrays
    from app.rooms.relay import VIEWS, audience_frame
    from engine.spec import RunSpec
    from engine.training import Trainer

    for n in (32, 256):
        trainer = Trainer(RunSpec(task="add", arch="rnn", arch_config={"hidden": n}, rule="eprop"))
        trainer.train_step()
        snap = trainer.snapshot()
        meta, arrays = snapshot_arrays(snap)
        raw = encode_snapshot(snap["step"], meta, arrays)
        sizes = {f"{k} ({'hidden' if h else 'shown'})": len(audience_frame(raw, v, h, time.time()))
                 for k, v in VIEWS.items() for h in (False, True)}
        print(f"{n} units: float32 frame {len(raw) / 1024:.1f} KiB; " +
              "; ".join(f"{k} {b / 1024:.1f} KiB" for k, b in sizes.items()), flush=True)


def healthy(base: str) -> bool:
    try:
        return httpx.get(base + "/healthz").status_code == 200
    except httpx.TransportError:
        return False


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--listeners", type=int, nargs="+", default=[50, 200])
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--votes-per-s", type=float, default=20.0)
    ap.add_argument("--run", action="store_true", help="seats of the relay of a running run, not room listeners")
    ap.add_argument("--hidden", type=int, default=32, help="the shown run's units (with --run)")
    ap.add_argument("--bytes", action="store_true", help="only print snapshot sizes (no server)")
    ap.add_argument("--fanout", action="store_true", help="the relay's fan-out alone, in memory (no server)")
    args = ap.parse_args()
    if args.bytes:
        snapshot_bytes()
        return
    if args.fanout:
        for n in args.listeners:
            row = asyncio.run(fanout(min(n, 1000), min(args.seconds, 60), args.hidden))
            print("  ".join(f"{k} {v:.1f}" if isinstance(v, float) else f"{k} {v}" for k, v in row.items()), flush=True)
        return
    if max(args.listeners) > 1000 or args.seconds > 60:
        ap.error("at most 1000 listeners and 60 seconds")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as data:
        server = subprocess.Popen([sys.executable, "-c", SERVER, str(port), data],
                                  cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        try:
            wait_until(lambda: healthy(base), 60, "the server")
            for n in args.listeners:
                row = asyncio.run(measure_run(base, n, args.seconds, server.pid, args.hidden) if args.run else
                                  measure(base, n, args.seconds, args.votes_per_s, server.pid))
                print("  ".join(f"{k} {v:.1f}" if isinstance(v, float) else f"{k} {v}" for k, v in row.items()),
                      flush=True)
        finally:
            server.terminate()
            server.wait(15)


if __name__ == "__main__":
    main()

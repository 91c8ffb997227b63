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
    args = ap.parse_args()
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
                row = asyncio.run(measure(base, n, args.seconds, args.votes_per_s, server.pid))
                print("  ".join(f"{k} {v:.1f}" if isinstance(v, float) else f"{k} {v}" for k, v in row.items()),
                      flush=True)
        finally:
            server.terminate()
            server.wait(15)


if __name__ == "__main__":
    main()

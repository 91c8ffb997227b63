"""How much does an audience cost a run? Updates/s of one run watched by 1 viewer vs 20, side by side.

Starts the real server (uvicorn, its own process) on 127.0.0.1 at a free port, creates a run per configuration,
connects N websocket viewers that read everything and ack every snapshot, plays the run for a fixed wall time,
and prints per configuration: the run's updates/s as the viewers saw it, metrics and snapshot messages/s and
bytes/s per viewer, and the 20-viewer / 1-viewer ratio of updates/s (1.0 means the audience costs nothing).

    python bench/viewers.py [--seconds 5] [--viewers 1 20] [--hidden 32]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Iterator

from websockets.asyncio.client import connect

SERVER = """
import sys
from pathlib import Path
from app.main import run_server
from app.settings import Settings
if __name__ == "__main__":
    run_server(Settings(host="127.0.0.1", port=int(sys.argv[1]), data_dir=Path(sys.argv[2]), log_level="warning"))
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(base: str, method: str, path: str, body: Any = None) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())


def wait_until(check: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = check()
            if value:
                return value
        except OSError:
            pass
        time.sleep(0.05)
    raise SystemExit(f"timed out waiting for {what}")


@contextmanager
def serving() -> Iterator[str]:
    """The real server in its own process on a free port with a temporary data folder; yields its base URL."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="creditlab-bench-") as data:
        env = {**os.environ, "OMP_NUM_THREADS": "1"}
        server = subprocess.Popen([sys.executable, "-c", SERVER, str(port), data], env=env)
        try:
            wait_until(lambda: http(base, "GET", "/healthz")["status"] == "ok", 60, "the server")
            yield base
        finally:
            server.terminate()
            try:
                server.wait(15)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


@dataclass
class Tally:
    metrics: int = 0
    records: int = 0
    snapshots: int = 0
    bytes: int = 0
    first_step: int | None = None
    last_step: int = 0
    times: list[float] = field(default_factory=list)


async def viewer(url: str, tally: Tally, stop: asyncio.Event, ready: asyncio.Event) -> None:
    async with connect(url, max_size=None, compression=None) as ws:
        ready.set()
        while not stop.is_set():
            try:
                message = await asyncio.wait_for(ws.recv(), 0.2)
            except TimeoutError:
                continue
            tally.bytes += len(message)
            if isinstance(message, bytes):
                tally.snapshots += 1
                await ws.send('{"type":"ack"}')
                continue
            data = json.loads(message)
            if data["type"] == "metrics" and data["records"]:
                tally.metrics += 1
                tally.records += len(data["records"])
                if tally.first_step is None:
                    tally.first_step = data["records"][0]["step"]
                tally.last_step = data["records"][-1]["step"]


async def measure(base: str, ws_base: str, n: int, seconds: float, spec: dict[str, Any]) -> dict[str, float]:
    run = http(base, "POST", "/api/runs", spec)
    wait_until(lambda: http(base, "GET", f"/api/runs/{run['id']}")["status"] == "paused", 60, "the run")
    tallies = [Tally() for _ in range(n)]
    stop = asyncio.Event()
    readies = [asyncio.Event() for _ in range(n)]
    tasks = [asyncio.create_task(viewer(f"{ws_base}/ws/runs/{run['id']}", t, stop, r))
             for t, r in zip(tallies, readies)]
    await asyncio.wait_for(asyncio.gather(*(r.wait() for r in readies)), 30)
    await asyncio.to_thread(http, base, "POST", f"/api/runs/{run['id']}/control", {"action": "play"})
    start = time.monotonic()
    await asyncio.sleep(seconds)  # the measurement window itself
    elapsed = time.monotonic() - start
    stop.set()
    await asyncio.gather(*tasks)
    await asyncio.to_thread(http, base, "POST", f"/api/runs/{run['id']}/control", {"action": "stop"})
    per = lambda attr: sum(getattr(t, attr) for t in tallies) / n / elapsed  # noqa: E731
    lag = max(t.last_step for t in tallies) - min(t.last_step for t in tallies)
    return {"viewers": n, "updates_per_s": per("records"), "metrics_per_s": per("metrics"),
            "snapshots_per_s": per("snapshots"), "bytes_per_s": per("bytes"), "max_step_lag": lag}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--viewers", type=int, nargs="+", default=[1, 20])
    parser.add_argument("--hidden", type=int, default=32)
    args = parser.parse_args()
    spec = {"task": "add", "arch": "rnn", "rule": "bptt", "batch": 16, "steps": 10_000_000,
            "arch_config": {"hidden": args.hidden}}
    with serving() as base:
        ws_base = base.replace("http://", "ws://", 1)
        results = [asyncio.run(measure(base, ws_base, n, args.seconds, spec)) for n in args.viewers]
    print(f"{'viewers':>7} {'updates/s':>10} {'metrics/s':>10} {'snaps/s':>8} {'KiB/s/viewer':>13} {'step lag':>8}")
    for r in results:
        print(f"{r['viewers']:>7} {r['updates_per_s']:>10.1f} {r['metrics_per_s']:>10.1f} "
              f"{r['snapshots_per_s']:>8.1f} {r['bytes_per_s'] / 1024:>13.1f} {r['max_step_lag']:>8}")
    if len(results) >= 2 and results[0]["updates_per_s"]:
        ratio = results[-1]["updates_per_s"] / results[0]["updates_per_s"]
        print(f"updates/s with {results[-1]['viewers']} viewers / with {results[0]['viewers']}: {ratio:.2f}")


if __name__ == "__main__":
    main()

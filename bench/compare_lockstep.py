"""Lock-step on the server: what exact waves (step every member, wait for all) cost against free-running members.

Creates the same three-member comparison (bptt, eprop, readout on a small DNMS) on a live app twice, lock-step and
free, plays it, and prints the wall time to the end and the updates per second per member. Run:
``.venv/bin/python bench/compare_lockstep.py [steps]``.
"""

from __future__ import annotations

import sys
import tempfile
import time
import warnings
from pathlib import Path

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings

BASE = {"task": "dnms", "task_config": {"delay": 5}, "arch_config": {"hidden": 16}, "batch": 8, "alignment_every": 0}


def timed(client: TestClient, lockstep: bool, steps: int) -> float:
    body = {"base": {**BASE, "steps": steps}, "members": [{"rule": r} for r in ("bptt", "eprop", "readout")],
            "lockstep": lockstep}
    made = client.post("/api/comparisons", json=body).json()
    auth = {"Authorization": f"Bearer {made['owner_token']}"}
    while client.get(f"/api/comparisons/{made['id']}").json()["members"][2]["run"]["status"] != "paused":
        time.sleep(0.05)  # every worker ready: time training only
    start = time.perf_counter()
    client.post(f"/api/comparisons/{made['id']}/control", json={"action": "play"}, headers=auth)
    while client.get(f"/api/comparisons/{made['id']}").json()["status"] != "done":
        time.sleep(0.05)
    return time.perf_counter() - start


def main() -> None:
    steps = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), max_concurrent_runs=3, max_runs_per_owner=6)
        with TestClient(create_app(settings)) as client:
            free = timed(client, False, steps)
            lock = timed(client, True, steps)
    print(f"3 members × {steps} updates (dnms delay 5, 16 units, batch 8)")
    print(f"free:      {free:6.1f} s  ({steps / free:5.1f} updates/s per member)")
    print(f"lock-step: {lock:6.1f} s  ({steps / lock:5.1f} updates/s per member; {lock / free:.2f}× free)")


if __name__ == "__main__":
    main()

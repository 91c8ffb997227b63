"""What a queued run's status message says: why it waits, for what, and about how long.

Each worker slot frees after an estimated time: a running run's remaining updates × its ms per update; a run
paused with nobody watching, after the rest of the ``idle_release_s`` grace; a finished or parking run, at once;
a run paused while someone watches (or a worker still starting), at an unknown time. The run at queue position
``p`` (1 = next) gets the slot that frees ``p``-th soonest (Eq. 1); with fewer known times than ``p`` the wait is
unknown and the message says what it waits for instead.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.runs.run import Run


def slot_free_in(run: Run, idle_release_s: float) -> float:
    """Seconds until ``run`` gives its worker back (``inf``: unknown, a person decides)."""
    worker = run.worker
    if worker is None or worker.ending:
        return 0.0
    if run.status == "running":
        ms = ms_per_update(run)
        left = max(0, int(run.spec.get("steps", 0)) - run.step)
        return left * ms / 1000 if ms > 0 else math.inf
    if run.status == "paused" and not run.hub.viewers:
        return idle_release_s
    return math.inf


def ms_per_update(run: Run) -> float:
    """Wall-clock ms per update: the recent records' mean (else the worker's cost figure), and no faster than the
    run's speed limit allows."""
    recent = [r["ms"] for r in run.history[-50:] if r.get("ms") is not None]
    ms = sum(recent) / len(recent) if recent else float((run.cost or {}).get("ms_per_update") or 0.0)
    return max(ms, 1000.0 / run.speed) if run.speed > 0 else ms


def about(seconds: float) -> str:
    if seconds < 5:
        return "a few seconds"
    if seconds < 90:
        return f"about {int(round(seconds, -1)) or 5} s"
    if seconds < 5400:
        return f"about {round(seconds / 60)} min"
    return f"about {seconds / 3600:.1f} h"


def queue_message(position: int, cap: int, holders: list[Run], idle_release_s: float) -> str:
    """The message of the run at ``position`` (1 = next) while ``holders`` hold the ``cap`` worker slots."""
    if cap == 0:
        return "waiting: this server starts no trainers (max_concurrent_runs is 0)"
    training = sum(1 for r in holders if r.status == "running")
    paused = sum(1 for r in holders if r.status == "paused")
    other = len(holders) - training - paused
    parts = [f"{training} training"] if training else []
    if paused:
        parts.append(f"{paused} paused")
    if other:
        parts.append(f"{other} starting or ending")
    ahead = "next in line" if position == 1 else f"{position - 1} run{'s' if position > 2 else ''} ahead"
    why = f"waiting for a trainer: all {cap} are in use ({', '.join(parts)}); {ahead}"
    times = sorted(slot_free_in(r, idle_release_s) for r in holders)
    free_now = cap - len(holders)
    times = [0.0] * max(0, free_now) + times
    t = times[position - 1] if position <= len(times) else math.inf  # Eq. (1)
    if math.isfinite(t):
        return f"{why}; starts in {about(t)}"
    return f"{why}; starts when a paused run is stopped or left unwatched, or a run finishes"

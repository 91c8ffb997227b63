"""A room's sandbox: each audience member may train their own small copy of the presenter's preset.

The presenter opens it with a spec (default: the spec of the run the room shows; refused while a rule is hidden,
which the spec would name). It is shrunk to a *small copy*: at most ``MAX_UNITS`` units and ``MAX_STEPS``
updates. Each participant then starts at most one run of it (asking again answers the same run), owned by a
token minted for them (answered once, like ``POST /api/runs``), and queued behind the server's concurrency cap
like any run: its ``queue_position`` tells them where they stand. Starts are rate-limited per participant.
Closing the sandbox stops every run it started. The sandbox lives in memory only (its runs are short); a
restart closes it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

MAX_UNITS = 64
MAX_STEPS = 2000


@dataclass
class Sandbox:
    spec: dict[str, Any]
    """The preset every copy trains (already shrunk)."""
    runs: dict[str, str] = field(default_factory=dict)
    """Participant id → the id of the run they started."""


def small_copy(spec: dict[str, Any]) -> dict[str, Any]:
    """``spec`` with at most MAX_UNITS units and MAX_STEPS updates, no seed pinned to the presenter's run's,
    and nothing a copy should not inherit (alignment probes are costly)."""
    out = {k: v for k, v in spec.items() if k not in ("seed", "alignment_every")}
    arch_config = dict(out.get("arch_config") or {})
    if "hidden" in arch_config:
        arch_config["hidden"] = min(int(arch_config["hidden"]), MAX_UNITS)
    out["arch_config"] = arch_config
    out["steps"] = min(int(out.get("steps") or MAX_STEPS), MAX_STEPS)
    return out


def counts(statuses: list[str]) -> dict[str, int]:
    """How many copies are running, queued (or starting) and finished."""
    running = sum(s in ("running", "paused") for s in statuses)
    queued = sum(s == "queued" for s in statuses)
    return {"started": len(statuses), "running": running, "queued": queued,
            "finished": len(statuses) - running - queued}

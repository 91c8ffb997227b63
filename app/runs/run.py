"""One run as the server keeps it: its spec, status and history, its hub of viewers, and its worker if it has one.

What a run's fields mean over its life is described in :mod:`app.runs.manager`, which is the only thing that
changes them.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

from app.protocol import FINISHED, RunInfo, RunStatus
from app.runs.hub import Hub
from app.runs.link import Worker
from app.store import StoredRun
from engine.training import late_mean, late_window


@dataclass(eq=False)
class Run:
    id: str
    spec: dict[str, Any]
    hub: Hub
    status: RunStatus = "queued"
    step: int = 0
    speed: float = 0.0
    message: str | None = None
    cost: dict[str, Any] | None = None
    created: float = field(default_factory=time.time)
    updated: float = field(default_factory=time.time)
    history: list[dict[str, Any]] = field(default_factory=list)
    queue_position: int | None = None
    worker: Worker | None = None
    owner: str | None = None
    autoplay: str | None = None
    """What to do once a queued run's worker is ready: "play", "step", or nothing (None)."""
    pending: str | None = None
    """The status the worker will report once it has handled the commands already sent (None: caught up)."""
    last_status: str = ""
    owner: str | None = None
    """SHA-256 of the owner's token (app/owners.py); None: nobody may control the run (made before owners)."""
    public: bool = False
    """Listed for everyone (``GET /api/runs?public=true``), not only for its owner; its owner decides."""
    hello_cache: tuple[Any, str] | None = None
    """(history key, encoded thinned history) for the next hello (see RunManager._hello)."""
    timer: asyncio.TimerHandle | None = None
    timer_kind: str | None = None
    """What ``timer`` will do when nobody watches: "pause" a running run or "park" a paused one."""

    @property
    def lr(self) -> float:
        return float(self.spec["optim"]["lr"])

    def final(self) -> dict[str, Any] | None:
        if self.status not in FINISHED:
            return None
        last = self.history[-1] if self.history else {}
        cost = self.cost or {}  # its "steps" is the trial length T; here "steps" counts updates (CONTRACT §2–3)
        # the history may be thinned in its older part (history.cap): count updates by the run's step
        n, h = self.step, self.history
        return {**cost, "trial_steps": cost.get("steps"), "status": self.status, "steps": n,
                "loss": late_mean(h, "loss", n), "accuracy": late_mean(h, "accuracy", n),
                "last_loss": last.get("loss"), "last_accuracy": last.get("accuracy"), "window": late_window(n),
                "alignment": {k: late_mean(h, k, n) for k in ("recurrent", "all")}}

    def info(self) -> RunInfo:
        return RunInfo(id=self.id, spec=self.spec, status=self.status, step=self.step,
                       queue_position=self.queue_position, speed=self.speed, lr=self.lr, final=self.final(),
                       message=self.message, cost=self.cost, viewers=len(self.hub.viewers), created=self.created,
                       updated=self.updated, public=self.public)

    def stored(self) -> StoredRun:
        return StoredRun(self.id, self.spec, self.status, self.speed, self.message, self.cost, self.created,
                         self.updated, owner=self.owner, public=self.public)

"""One comparison as the server keeps it: its spec, owner, member runs, how they train, and its table.

Its members are ordinary runs of the :class:`~app.runs.manager.RunManager` (each holds a worker slot, each can be
watched at ``/ws/runs/{id}``); the comparison adds the schedule (:mod:`app.comparisons.lockstep`) and the table
(:func:`engine.comparing.table_row`, :func:`engine.comparing.winner`) computed from the members' histories.

How the members train (``mode``):

* ``lockstep`` — update k of every member before update k+1 of any, as in ``creditlab compare``;
* ``free`` — each member plays at its own full speed (the spec's ``lockstep`` off);
* ``in_turn`` — the server trains fewer runs at once (``max_concurrent_runs``) than the comparison has members,
  so lock-step is impossible: every member plays and the queue trains them as slots free (``message`` says so).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any, Literal

from app.protocol import FINISHED
from app.runs.run import Run
from engine.compare import ComparisonSpec
from engine.comparing import table_row, winner

Mode = Literal["lockstep", "free", "in_turn"]


def in_turn_message(cap: int, members: int) -> str:
    return (f"this server trains at most {cap} run{'s' if cap != 1 else ''} at once, fewer than the comparison's "
            f"{members} members: they train in turn, not in lock-step (each curve is complete once its run is)")


@dataclass(eq=False)
class Comparison:
    id: str
    spec: ComparisonSpec
    labels: list[str]
    runs: list[Run]
    owner: str
    """SHA-256 of the owner's token, as for runs: only that token controls the comparison."""
    mode: Mode
    target: float = 0.9
    message: str | None = None
    playing: bool = False
    """The owner pressed play (and not pause since); in lock-step mode the driver task then steps the members."""
    driver: asyncio.Task[None] | None = None
    created: float = field(default_factory=time.time)

    @property
    def status(self) -> str:
        """``done`` once every member has finished; ``running`` while playing; else ``paused``."""
        if all(r.status in FINISHED for r in self.runs):
            return "done"
        return "running" if self.playing else "paused"

    def table(self) -> list[dict[str, Any]]:
        return [table_row(label, run.history, run.cost or {}, self.target, run.status)
                for label, run in zip(self.labels, self.runs)]

    def detail(self) -> dict[str, Any]:
        """What ``GET /api/comparisons/{id}`` answers: spec, mode, members (their run info), table, winner."""
        rows = self.table()
        return {"id": self.id, "spec": self.spec.model_dump(), "mode": self.mode, "lockstep": self.mode == "lockstep",
                "status": self.status, "message": self.message, "target": self.target, "created": self.created,
                "members": [{"label": label, "run": run.info().model_dump()}
                            for label, run in zip(self.labels, self.runs)],
                "table": rows, "winner": winner(rows) if any(r["updates"] for r in rows) else None}

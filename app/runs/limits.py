"""Admission: how many runs one owner may have waiting or training, and how long the queue may grow.

A run is *active* while it waits in the queue or holds a worker; a parked run (paused, checkpointed, no worker)
and a finished one are not. Creating a run, or sending a parked or finished run back to the queue (play, step,
reset), must keep the owner at most ``max_runs_per_owner`` active runs and the queue at most ``max_queue`` runs
long; otherwise :class:`LimitExceeded` (HTTP 429) says which limit and what to do.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable

if TYPE_CHECKING:
    from app.runs.run import Run

ANONYMOUS = "anonymous"


class LimitExceeded(Exception):
    """A run would exceed a per-owner or queue limit (HTTP 429)."""


def owner_key(run: Run) -> str:
    return run.owner or ANONYMOUS


def active(run: Run) -> bool:
    return run.status == "queued" or (run.worker is not None and not run.worker.ending)


def admit(runs: Iterable[Run], owner: str | None, queued: int, must_wait: bool, per_owner: int,
          max_queue: int, exclude: Run | None = None) -> None:
    """Raise :class:`LimitExceeded` unless one more active run of ``owner`` fits (``exclude``: the run being
    requeued, not counted twice)."""
    key = owner or ANONYMOUS
    mine = sum(1 for r in runs if r is not exclude and owner_key(r) == key and active(r))
    if mine >= per_owner:
        raise LimitExceeded(
            f"you already have {mine} runs waiting or training (at most {per_owner} at once): stop or pause "
            "one of them and let it rest, or wait for one to finish")
    if must_wait and queued >= max_queue:
        raise LimitExceeded(
            f"the queue is full ({queued} runs are waiting for a trainer): try again in a few minutes")

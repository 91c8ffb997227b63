"""Controls: what play, pause, step, stop, speed, lr and reset do to a run, by the table in :mod:`app.runs.states`.

The run manager hands every control here with itself as the :class:`Operations` a control may use (the queue, the
workers, persistence stay the manager's); this module does not import the manager. A control that does not fit the
run's phase raises :class:`Conflict` (HTTP 409), one that would exceed a limit raises
:class:`~app.runs.limits.LimitExceeded` (HTTP 429).
"""

from __future__ import annotations

from typing import Protocol

from app.protocol import Control, LearningRate, ShowSynapse, Speed
from app.runs.run import Run
from app.runs.states import TABLE, phase, reason


class Conflict(Exception):
    """A control that makes no sense in the run's current state (HTTP 409)."""


class Operations(Protocol):
    """What applying a control may ask of the runs' owner (:class:`app.runs.manager.RunManager` is one)."""

    def touched(self, run: Run) -> None:
        """Someone controlled the run: its unwatched grace starts again."""

    def changed(self, run: Run) -> None:
        """Tell the viewers and persist."""

    def admit(self, owner: str | None, exclude: Run | None = None) -> None:
        """Raise LimitExceeded unless one more active run of ``owner`` fits."""

    def enqueue(self, run: Run, autoplay: str | None = None) -> None:
        """Queue the run for a worker; ``autoplay`` ("play", "step") is done once the worker is ready."""

    def unqueue_parked(self, run: Run) -> None:
        """A parked run waiting in the queue goes back to rest (no-op for any other run)."""

    def stop(self, run: Run, message: str | None) -> None:
        """End the run for good."""

    def reset(self, run: Run) -> int | None:
        """Back to step 0, paused; the worker command's sequence number when a live worker does it."""


def apply(manager: Operations, run: Run, control: Control) -> int | None:
    """Apply a control without waiting for the worker; returns the command's sequence number, if any."""
    ph = phase(run)
    outcome = TABLE[ph][control.action]
    seq = None
    manager.touched(run)  # a control is attention: the unwatched graces start again
    if outcome == "refuse":
        raise Conflict(reason(ph, control.action, run.status))
    if outcome == "nothing":
        return None
    if outcome == "reset":
        seq = manager.reset(run)
    elif outcome == "stop":
        manager.stop(run, None)
    elif outcome == "set":
        if isinstance(control, Speed):
            run.speed = control.value
        elif isinstance(control, LearningRate):
            run.spec = {**run.spec, "optim": {**run.spec["optim"], "lr": control.value}}
        if run.worker is not None and not run.worker.ending and ph in ("paused", "running"):
            value = tuple(control.value) if isinstance(control, ShowSynapse) else control.value
            run.worker.send(control.action, value)  # a starting worker is told in its "ready" handler
    elif outcome in ("autoplay", "no_autoplay"):
        run.autoplay = "play" if outcome == "autoplay" else None
        if outcome == "no_autoplay" and ph == "waiting":
            manager.unqueue_parked(run)  # a parked run sent to the queue by Play: Pause takes it back out
    elif outcome in ("requeue_play", "requeue_step"):
        manager.admit(run.owner, exclude=run)
        run.message = None
        manager.enqueue(run, autoplay="play" if outcome == "requeue_play" else "step")
    elif outcome == "forward" and run.worker is not None:
        seq = run.worker.send(control.action)
        run.pending = "running" if control.action == "play" else "paused"
    manager.changed(run)
    return seq


"""Controls: what play, pause, step, stop, speed, lr and reset do to a run, by the table in :mod:`app.runs.states`.

:meth:`RunManager.apply <app.runs.manager.RunManager.apply>` hands every control here; a control that does not fit
the run's phase raises :class:`Conflict` (HTTP 409), one that would exceed a limit raises
:class:`~app.runs.limits.LimitExceeded` (HTTP 429).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.protocol import Control, LearningRate, Speed
from app.runs.run import Run
from app.runs.states import TABLE, phase, reason

if TYPE_CHECKING:
    from app.runs.manager import RunManager


class Conflict(Exception):
    """A control that makes no sense in the run's current state (HTTP 409)."""


def apply(manager: RunManager, run: Run, control: Control) -> int | None:
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
        seq = reset(manager, run)
    elif outcome == "stop":
        manager.stop(run, None)
    elif outcome == "set":
        if isinstance(control, Speed):
            run.speed = control.value
        elif isinstance(control, LearningRate):
            run.spec = {**run.spec, "optim": {**run.spec["optim"], "lr": control.value}}
        if run.worker is not None and not run.worker.ending and ph in ("paused", "running"):
            run.worker.send(control.action, control.value)  # a starting worker is told in its "ready" handler
    elif outcome in ("autoplay", "no_autoplay"):
        run.autoplay = "play" if outcome == "autoplay" else None
        if outcome == "no_autoplay" and ph == "waiting" and manager.checkpoints.load_checkpoint(run.id):
            manager.unqueue(run)  # a parked run sent to the queue by Play: Pause takes it back out
    elif outcome in ("requeue_play", "requeue_step"):
        manager.admit(run.owner, exclude=run)
        run.message = None
        manager.enqueue(run, autoplay="play" if outcome == "requeue_play" else "step")
    elif outcome == "forward" and run.worker is not None:
        seq = run.worker.send(control.action)
        run.pending = "running" if control.action == "play" else "paused"
    manager.changed(run)
    return seq


def reset(manager: RunManager, run: Run) -> int | None:
    """Back to step 0, paused: a live worker resets itself; otherwise the run queues for a fresh worker."""
    run.message, run.autoplay = None, None
    manager.checkpoints.delete_checkpoint(run.id)
    worker = run.worker
    if worker is not None and not worker.ending and run.status in ("paused", "running"):
        run.pending = "paused"
        return worker.send("reset")  # the worker's "reset" message clears the history
    if run.status != "queued":
        manager.admit(run.owner, exclude=run)
    run.history.clear()
    run.step = 0
    run.hub.resync_all()
    manager.store.clear_records(run.id)
    if worker is not None:  # ending, or starting from a checkpoint that is no longer wanted: let it go
        manager.end_worker(run)
        run.worker = None
    if run not in manager.queue:
        manager.enqueue(run)
    return None

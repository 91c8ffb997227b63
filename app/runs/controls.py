"""Controls: what play, pause, step, stop, speed, lr and reset do to a run, given the state it is in.

:meth:`RunManager.apply <app.runs.manager.RunManager.apply>` hands every control here; a control that does not fit
the run's state raises :class:`Conflict` (HTTP 409).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.protocol import FINISHED, Control, LearningRate, Play, Reset, Speed, Step, Stop
from app.runs.run import Run

if TYPE_CHECKING:
    from app.runs.manager import RunManager


class Conflict(Exception):
    """A control that makes no sense in the run's current state (HTTP 409)."""


def apply(manager: RunManager, run: Run, control: Control) -> int | None:
    """Apply a control without waiting for the worker; returns the command's sequence number, if any."""
    worker = run.worker
    # judge by what the run will be once the worker has done what it was already told
    status = run.pending if run.pending and run.status in ("paused", "running") else run.status
    seq = None
    if isinstance(control, Reset):
        seq = reset(manager, run)
    elif status in FINISHED:
        raise Conflict(f"the run is {status}; only reset is possible")
    elif isinstance(control, Stop):
        if run in manager.queue:
            manager.queue.remove(run)
            manager._pump()
        run.status, run.queue_position, run.autoplay = "stopped", None, False
        manager._end_worker(run)
    elif isinstance(control, (Speed, LearningRate)):
        if isinstance(control, Speed):
            run.speed = control.value
        else:
            run.spec = {**run.spec, "optim": {**run.spec["optim"], "lr": control.value}}
        if worker is not None and status != "queued":
            worker.send(control.action, control.value)
    elif status == "queued":
        if isinstance(control, Step):
            raise Conflict("the run is queued; step once it is ready (paused)")
        run.autoplay = isinstance(control, Play)
    elif isinstance(control, Step) and status != "paused":
        raise Conflict("step works only while paused; pause first")
    elif worker is not None:
        seq = worker.send(control.action)
        run.pending = "running" if isinstance(control, Play) else "paused"
    manager._changed(run)
    return seq


def reset(manager: RunManager, run: Run) -> int | None:
    """Back to step 0, paused: the worker resets itself, or (with no usable worker) the run queues for a new one."""
    run.message, run.autoplay = None, False
    if run.worker is not None and not run.worker.ending and run.status != "queued":
        run.pending = "paused"
        return run.worker.send("reset")  # the worker's "reset" message clears the history
    run.history.clear()
    run.step = 0
    run.hub.resync_all()
    if run.worker is not None and run.worker.ending:
        run.worker = None  # let it finish on its own; a new worker takes over
    if run.status != "queued":
        manager.store.clear_records(run.id)
        manager._enqueue(run)
    return None

"""The run's state machine in one table: what each control does in each phase of a run.

On the wire a run has one of seven statuses (``queued, paused, running, done, diverged, stopped, error``). The
server distinguishes a few more *phases*, derived from the status and whether the run holds a worker::

    waiting ─(slot frees)─▶ starting ─(worker ready)─▶ paused ⇄ running ─▶ finished (done | diverged)
                                                         │  ▲
                   (nobody watches for idle_release_s)   ▼  │ (play / step: back through the queue)
                                                        parked
    stop: any phase ─▶ finished (stopped)          reset: any phase ─▶ paused at step 0 (through the queue
    any failure ─▶ finished (error)                                     when it has no usable worker)

``parked`` is a paused run without a worker: its checkpoint stands in for the worker, and Play or Step requeues it
to resume exactly where it was. A running run that nobody watches for ``unwatched_pause_s`` pauses itself.

:data:`TABLE` says what each control does in each phase; :func:`phase` says which phase a run is in.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from app.protocol import FINISHED

if TYPE_CHECKING:
    from app.runs.run import Run

Phase = Literal["waiting", "starting", "paused", "running", "parked", "finished"]
Action = Literal["play", "pause", "step", "reset", "stop", "speed", "lr", "synapse"]
Outcome = Literal[
    "forward",      # the worker carries it out (play, pause, step)
    "set",          # speed / lr: remembered, and told to the worker if it has one; synapse: told to the worker
    "autoplay",     # queued: play once the worker is ready
    "no_autoplay",  # queued: cancel a pending play/step (it will wait paused; a parked one leaves the queue)
    "requeue_play", "requeue_step",  # parked: queue for a worker that resumes from the checkpoint, then play/step
    "reset",        # back to step 0
    "stop",         # end for good; the worker (if any) goes at once
    "nothing",      # already so: a success that changes nothing
    "refuse",       # a Conflict (HTTP 409) with the reason in REASONS
]

_QUEUED: dict[str, Outcome] = {"play": "autoplay", "pause": "no_autoplay", "step": "refuse", "reset": "reset",
                               "stop": "stop", "speed": "set", "lr": "set", "synapse": "refuse"}

TABLE: dict[Phase, dict[str, Outcome]] = {
    "waiting": _QUEUED,
    "starting": _QUEUED,
    "paused": {"play": "forward", "pause": "forward", "step": "forward", "reset": "reset", "stop": "stop",
               "speed": "set", "lr": "set", "synapse": "set"},
    "running": {"play": "forward", "pause": "forward", "step": "refuse", "reset": "reset", "stop": "stop",
                "speed": "set", "lr": "set", "synapse": "set"},
    "parked": {"play": "requeue_play", "pause": "nothing", "step": "requeue_step", "reset": "reset",
               "stop": "stop", "speed": "set", "lr": "set", "synapse": "refuse"},
    "finished": {"play": "refuse", "pause": "refuse", "step": "refuse", "reset": "reset", "stop": "nothing",
                 "speed": "refuse", "lr": "refuse", "synapse": "refuse"},
}

REASONS: dict[tuple[Phase, str], str] = {
    ("running", "step"): "step works only while paused; pause first",
    ("waiting", "step"): "the run is queued; step once it is ready (paused)",
    ("starting", "step"): "the run is queued; step once it is ready (paused)",
    **{(ph, "synapse"): "a synapse can be picked only while the run is paused or running (it is not loaded now)"
       for ph in ("waiting", "starting", "parked", "finished")},
}


def reason(ph: Phase, action: str, status: str) -> str:
    return REASONS.get((ph, action), f"the run is {status}; only reset is possible")


def phase(run: Run) -> Phase:
    """The run's phase. A paused/running run is judged by what it will be once its worker has done what it was
    already told (``pending``)."""
    if run.status in FINISHED:
        return "finished"
    if run.status == "queued":
        return "starting" if run.queue_position == 0 else "waiting"
    if run.worker is None or run.worker.ending:
        return "parked"
    return "running" if (run.pending or run.status) == "running" else "paused"

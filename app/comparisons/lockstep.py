"""Lock-step on the server: step the members in waves, update k of every member before update k+1 of any.

Each member is a run in its own worker process, so the engine's loop (``engine.comparing.compare``) cannot drive
them. The server sends **step** to every member that is behind (at the lowest step), waits until each worker has
confirmed it, and repeats. That is exact lock-step — the same schedule as ``creditlab compare`` — at the price of
one pipe round trip and one snapshot per member per update. Pacing (playing every member at the slowest one's
measured rate) would be cheaper but only approximately together, and drifts whenever one member slows (BPTT's
alignment updates, a busy core); the curves of a comparison must be comparable at every moment, so exactness wins.

Like a lone run, a comparison nobody watches (no viewer on any member) pauses after ``unwatched_pause_s``.
Stepping only the members at the lowest step keeps the waves exact even if a member was stepped on its own. A
member that finishes or diverges drops out of the waves; a member without a worker (parked) is sent back through
the queue by its step, and the wave waits for it.
"""

from __future__ import annotations

import asyncio
import logging
import time

from app.comparisons.comparison import Comparison
from app.protocol import FINISHED, Step
from app.runs.controls import Conflict
from app.runs.limits import LimitExceeded
from app.runs.manager import RunManager
from app.runs.states import phase

log = logging.getLogger(__name__)

#: How long to wait between looks while a member is not ready to step (its worker starting or resuming).
NOT_READY_S = 0.05


async def drive(manager: RunManager, comparison: Comparison) -> None:
    """Step the members in waves while ``comparison.playing``; stops when every member has finished."""
    timeout = manager.settings.worker_stop_timeout_s
    grace = manager.settings.unwatched_pause_s
    watched = time.monotonic()
    while comparison.playing:
        live = [r for r in comparison.runs if r.status not in FINISHED]
        if not live:
            break
        if any(r.hub.viewers for r in comparison.runs):
            watched = time.monotonic()
        elif time.monotonic() - watched > grace:  # as a lone run does: nobody watches, so it pauses
            comparison.message = f"paused: nobody watched it for {grace:g} s"
            break
        if any(phase(r) not in ("paused", "parked") or r.pending is not None for r in live):
            await asyncio.sleep(NOT_READY_S)  # a worker still starting (or resuming from its checkpoint)
            continue
        k = min(r.step for r in live)
        waits = []
        for run in (r for r in live if r.step == k):
            try:
                seq = manager.apply(run, Step(action="step"))
            except (Conflict, LimitExceeded) as err:
                comparison.message = f"lock-step paused: {err}"
                comparison.playing = False
                return
            if seq is not None and run.worker is not None:
                waits.append(run.worker.wait_for(seq, timeout))
        await asyncio.gather(*waits)
    comparison.playing = False

"""The run manager: creates runs, gives each a worker process, relays what workers say to the hubs.

Life of a run (``status``)::

    queued ──(worker ready)──▶ paused ⇄ running ──▶ done | diverged
       │                          │         │
       └──────── stop ────────────┴─────────┴──▶ stopped          (any failure ▶ error)

    reset: any run ──▶ paused at step 0 (through ``queued`` when it has no worker)

At most ``max_concurrent_runs`` runs hold a worker process; the others wait in a FIFO queue and know their
position. A worker ends when its run is stopped, fails, or is paused/finished with nobody watching for
``abandon_after_s``. Each worker has a reader thread that blocks on the worker's pipe and hands every message to
the event loop with ``loop.call_soon_threadsafe``; everything else here runs on the event loop.

The parts: :mod:`app.runs.run` (a run's record), :mod:`app.runs.link` (the server's end of a worker process),
:mod:`app.runs.controls` (what each control does in each state), :mod:`app.runs.hub` (the viewers).
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import multiprocessing.forkserver
import secrets
import time
from collections import deque
from functools import partial
from typing import Any

from app.protocol import FINISHED, Control, ControlMessage, MetricsMessage, StatusMessage, clean_record, dumps
from app.runs import controls
from app.runs.controls import Conflict
from app.runs.hub import Hub
from app.runs.link import Worker, open_worker, reap
from app.runs.run import Run
from app.settings import Settings
from app.store import Store
from engine.spec import RunSpec, full_config, resolve
from engine.training import build

__all__ = ["Conflict", "Run", "RunManager", "Worker"]

log = logging.getLogger(__name__)


class RunManager:
    """All runs of one server. Create it, ``await start()``, and ``await close()`` on the way out."""

    def __init__(self, settings: Settings, store: Store):
        self.settings = settings
        self.store = store
        self.runs: dict[str, Run] = {}
        self.queue: deque[Run] = deque()
        self.workers = 0
        self.live: set[Worker] = set()
        """Every worker process not yet reaped, including ones no longer attached to a run."""
        self.launching: set[asyncio.Task[None]] = set()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.ctx = multiprocessing.get_context(settings.start_method)
        if settings.start_method == "forkserver":
            # torch._dynamo is imported lazily by the first optimizer (seconds, with sympy): pay that once
            self.ctx.set_forkserver_preload(["app.runs.worker", "torch._dynamo", *settings.plugins])

    # -- lifetime -----------------------------------------------------------------------------------------------
    async def start(self) -> None:
        self.loop = asyncio.get_running_loop()
        if self.settings.start_method == "forkserver" and self.settings.max_concurrent_runs > 0:
            # start the fork server (it imports torch: seconds) in the background, before the first run needs it
            self._warm = self.loop.run_in_executor(None, multiprocessing.forkserver.ensure_running)
        for stored in await asyncio.to_thread(self.store.load):
            run = self._new_run(stored.id, stored.spec)
            run.status, run.speed, run.message, run.cost = stored.status, stored.speed, stored.message, stored.cost
            run.created, run.updated, run.history = stored.created, stored.updated, stored.history
            run.owner = stored.owner
            run.step = run.history[-1]["step"] if run.history else 0
            if run.status not in FINISHED:
                run.status = "stopped"
                run.message = "the server restarted while this run was live; reset it to train again"
                self._save(run)
            self.runs[run.id] = run

    async def close(self) -> None:
        """Stop every worker (killing any that will not go), close every viewer, flush the database."""
        warm = getattr(self, "_warm", None)
        if warm is not None:
            await asyncio.wait([warm], timeout=60)
        if self.launching:
            await asyncio.wait(self.launching, timeout=60)
        for run in self.runs.values():
            if run.status in ("paused", "running", "queued"):
                run.status, run.message, run.queue_position = "stopped", "the server shut down", None
                self._save(run)
            self._end_worker(run)
        self.queue.clear()
        for worker in self.live:
            if not worker.ending:
                worker.ending = True
                worker.send("stop")
        workers = list(self.live)
        await asyncio.to_thread(reap, workers, self.settings.worker_stop_timeout_s)
        for worker in workers:
            worker.commands.close()  # on the loop thread only, like every other use of this end
        await asyncio.gather(*(r.hub.close_all() for r in self.runs.values()))
        for run in self.runs.values():
            if run.abandon:
                run.abandon.cancel()

    # -- queries ------------------------------------------------------------------------------------------------
    def get(self, run_id: str) -> Run | None:
        return self.runs.get(run_id)

    def list(self) -> list[Run]:
        return sorted(self.runs.values(), key=lambda r: r.created)

    # -- creating -----------------------------------------------------------------------------------------------
    async def create(self, spec: RunSpec, owner: str | None = None) -> Run:
        """Check ``spec`` (raises the engine's UnknownName / Incompatible / SettingError) and queue a new run
        belonging to ``owner`` (the digest of its owner's token, app/owners.py)."""
        resolved = resolve(spec)
        # up to a few hundred ms, in a thread so that every stream keeps flowing: a rule that refuses the run's
        # size (RTRL's memory) is then a 422, not a failure
        await asyncio.to_thread(build, resolved)
        run = self._new_run(secrets.token_hex(6), full_config(resolved))
        run.owner = owner
        self.runs[run.id] = run
        self._prune()
        self._save(run)
        self._enqueue(run)
        return run

    def _new_run(self, run_id: str, spec: dict[str, Any]) -> Run:
        s = self.settings
        hub = Hub(lambda: "", buffer=s.viewer_buffer, max_unacked=s.max_unacked_snapshots,
                  send_timeout=s.send_timeout_s)
        run = Run(run_id, spec, hub)
        hub.make_hello = lambda: dumps({"type": "hello", "run": run.info().model_dump(), "history": run.history})
        hub.on_change = lambda: self._viewers_changed(run)
        return run

    def _prune(self) -> None:
        extra = len(self.runs) - self.settings.max_runs_kept
        for run in sorted(self.runs.values(), key=lambda r: r.updated):
            if extra <= 0:
                break
            if run.status in FINISHED and run.worker is None and not run.hub.viewers:
                del self.runs[run.id]
                self.store.delete_run(run.id)
                extra -= 1

    # -- the queue and the workers ------------------------------------------------------------------------------
    def _enqueue(self, run: Run) -> None:
        run.status, run.pending = "queued", None
        self.queue.append(run)
        self._pump()

    def _pump(self) -> None:
        """Start workers for queued runs while there are free slots; tell the rest their position."""
        while self.queue and self.workers < self.settings.max_concurrent_runs:
            run = self.queue.popleft()
            run.queue_position = 0
            self._changed(run)
            self.workers += 1
            task = asyncio.get_running_loop().create_task(self._launch(run))
            self.launching.add(task)
            task.add_done_callback(self.launching.discard)
        for position, run in enumerate(self.queue, 1):
            if run.queue_position != position:
                run.queue_position = position
                self._changed(run)

    async def _launch(self, run: Run) -> None:
        worker, (commands_child, events_child) = open_worker(self.ctx, run.id, run.spec, run.speed, self.settings)
        run.worker = worker
        self.live.add(worker)
        try:
            await asyncio.to_thread(worker.process.start)  # forkserver's first start imports torch: off the loop
        except Exception as err:  # noqa: BLE001
            log.exception("could not start a worker for run %s", run.id)
            worker.commands.close()
            worker.events.close()
            run.worker = None
            self.live.discard(worker)
            self.workers -= 1
            self._fail(run, f"could not start a worker process: {err}")
            self._pump()
            return
        finally:
            commands_child.close()
            events_child.close()
        worker.start_reader(self.loop, f"creditlab-read-{run.id}", partial(self._on_message, run, worker),
                            partial(self._on_exit, run, worker), self.settings.worker_stop_timeout_s)
        if worker.ending:  # stopped while it was starting
            worker.send("stop")

    def _on_message(self, run: Run, worker: Worker, message: tuple[str, Any]) -> None:
        if run.worker is not worker:
            return  # a worker detached from its run (by a reset while it was ending)
        kind, data = message
        if kind == "records":
            records = [clean_record(r) for r in data["records"]]
            run.history.extend(records)
            run.step = records[-1]["step"]
            self.store.add_records(run.id, records)
            diverged = data["status"] == "diverged"
            run.hub.publish_metrics(dumps(MetricsMessage(records=records, diverged=diverged).model_dump()))
        elif kind == "snapshot":
            run.hub.publish_snapshot(data)
        elif kind == "ready":
            run.queue_position = None
            run.cost = data["cost"]
            if run.status == "queued":
                run.status = "paused"
                if run.autoplay:
                    worker.send("play")
                    run.status = "running"
            if run.speed:
                worker.send("speed", run.speed)
            self._changed(run)
        elif kind == "reset":
            run.history.clear()
            run.step = 0
            self.store.clear_records(run.id)
            run.hub.resync_all()
        elif kind == "state":
            run.cost = data["cost"]
            if run.status not in ("stopped", "error"):
                run.status, run.step = data["status"], data["step"]
            if data["seq"] >= worker.seq or run.status in FINISHED:
                run.pending = None  # caught up with every command sent
            self._changed(run)
            worker.acknowledge(data["seq"])
        elif kind == "error":
            worker.ending = True  # it exits by itself now; a reset must start a new one
            self._fail(run, data)

    def _on_exit(self, run: Run, worker: Worker) -> None:
        worker.commands.close()
        worker.release()
        self.live.discard(worker)
        self.workers -= 1
        if run.worker is not worker:
            self._pump()
            return
        run.worker = None
        if run.status in ("queued", "paused", "running") and not worker.ending:
            code = worker.process.exitcode
            self._fail(run, f"the worker process ended unexpectedly (exit code {code})")
        if run.abandon:
            run.abandon.cancel()
            run.abandon = None
        self._pump()

    def _fail(self, run: Run, text: str) -> None:
        run.status, run.message, run.queue_position = "error", text, None
        run.hub.publish_error(dumps({"type": "error", "message": text}))
        self._changed(run)

    def _end_worker(self, run: Run) -> None:
        if run.worker is not None and not run.worker.ending:
            run.worker.ending = True
            run.worker.send("stop")

    # -- state changes ------------------------------------------------------------------------------------------
    def _changed(self, run: Run) -> None:
        """Tell viewers, persist, and re-check the abandon timer."""
        run.updated = time.time()
        status = StatusMessage(status=run.status, step=run.step,  # type: ignore[arg-type]
                               queue_position=run.queue_position, message=run.message, speed=run.speed,
                               lr=run.lr, viewers=len(run.hub.viewers), final=run.final())
        text = dumps(status.model_dump())
        if text != run.last_status:
            run.last_status = text
            run.hub.publish_status(text)
            self._save(run)
        self._viewers_changed(run, announce=False)

    def _save(self, run: Run) -> None:
        self.store.save_run(run.stored())

    def _viewers_changed(self, run: Run, announce: bool = True) -> None:
        idle = run.worker is not None and not run.hub.viewers and run.status in ("paused", "done", "diverged")
        if idle and run.abandon is None and self.loop is not None:
            run.abandon = self.loop.call_later(self.settings.abandon_after_s, self._abandon, run)
        elif not idle and run.abandon is not None:
            run.abandon.cancel()
            run.abandon = None
        if announce:
            self._changed(run)

    def _abandon(self, run: Run) -> None:
        run.abandon = None
        if run.hub.viewers or run.worker is None:
            return
        if run.status == "paused":
            run.status = "stopped"
            run.message = f"stopped after {self.settings.abandon_after_s:g} s with nobody watching"
            self._changed(run)
        self._end_worker(run)

    # -- controls -----------------------------------------------------------------------------------------------
    async def control(self, run: Run, control: Control) -> Run:
        """Apply a control or raise :class:`Conflict` saying why it does not fit the run's state.

        Commands that a worker carries out (play, pause, step, reset) return once the worker has confirmed them
        (bounded wait), so the answer shows the run's real state and every record made before it.
        """
        seq = self.apply(run, control)
        if seq is not None and run.worker is not None:
            await run.worker.wait_for(seq, self.settings.worker_stop_timeout_s)
        return run

    def apply(self, run: Run, control: Control) -> int | None:
        """Apply a control without waiting for the worker; returns the command's sequence number, if any."""
        return controls.apply(self, run, control)

    async def handle_ws_control(self, run: Run, message: ControlMessage) -> str | None:
        """A control that came over a websocket: None if applied, else the reason for the viewer. Does not wait
        for the worker (this viewer's acks keep flowing); the outcome arrives as status and metrics messages."""
        try:
            self.apply(run, message.control)
        except Conflict as err:
            return str(err)
        return None

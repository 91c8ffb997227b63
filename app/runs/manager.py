"""The run manager: creates runs, gives each a worker process, relays what workers say to the hubs.

The life of a run, and what each control does in each phase, is the table in :mod:`app.runs.states`. At most
``max_concurrent_runs`` runs hold a worker; the others wait in a FIFO queue and know their position and why they
wait (:mod:`app.runs.waiting`). A worker slot is held only while a run trains or is about to:

* a run that ends (done, diverged, stopped, error) gives its worker back at once and stays viewable;
* a paused run nobody watches checkpoints after ``idle_release_s`` and gives its worker back (*parked*); Play or
  Step sends it through the queue to a new worker that resumes from the checkpoint, exactly;
* a running run nobody watches pauses itself after ``unwatched_pause_s`` (and then parks).

Per-owner and queue limits are :mod:`app.runs.limits`. Each worker has a reader thread that blocks on the worker's
pipe and hands every message to the event loop with ``loop.call_soon_threadsafe``; everything else here runs on
the event loop.

The parts: :mod:`app.runs.run` (a run's record), :mod:`app.runs.link` (the server's end of a worker process),
:mod:`app.runs.controls` (applying a control, with this manager as its operations), :mod:`app.runs.hub` (the
viewers), :mod:`app.runs.history` (thinning and paging histories), :mod:`app.runs.checkpoints` (where parked runs'
checkpoints live).
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

from app.protocol import FINISHED, LIVE, Control, ControlMessage, MetricsMessage, StatusMessage, clean_record, dumps
from app.runs import controls, history
from app.runs.checkpoints import CheckpointStore, MemoryCheckpoints
from app.runs.keyframes import checkpoint_bytes, decode_keyframe
from app.runs.controls import Conflict
from app.runs.hub import Hub
from app.runs.limits import LimitExceeded, admit, owner_key
from app.runs.link import Worker, open_worker, reap
from app.runs.run import Run
from app.runs.waiting import queue_message
from app.settings import Settings
from app.store import Store
from engine.spec import RunSpec, full_config, resolve
from engine.training import build

__all__ = ["Conflict", "LimitExceeded", "Run", "RunManager", "Worker"]

log = logging.getLogger(__name__)

#: How often queued runs' messages (their wait estimates) are refreshed, in seconds.
QUEUE_REFRESH_S = 5.0


class RunManager:
    """All runs of one server. Create it, ``await start()``, and ``await close()`` on the way out."""

    def __init__(self, settings: Settings, store: Store, checkpoints: CheckpointStore | None = None):
        self.settings = settings
        self.store = store
        self.checkpoints: CheckpointStore = checkpoints or MemoryCheckpoints()
        self.runs: dict[str, Run] = {}
        self.queue: deque[Run] = deque()
        self.workers = 0
        """Worker slots taken: processes starting or alive (each gives its slot back when it has exited)."""
        self.live: set[Worker] = set()
        """Every worker process not yet reaped, including ones no longer attached to a run."""
        self.launching: set[asyncio.Task[None]] = set()
        self.loop: asyncio.AbstractEventLoop | None = None
        self._refresh: asyncio.TimerHandle | None = None
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
            run.owner, run.public = stored.owner, stored.public
            run.step = run.history[-1]["step"] if run.history else 0
            history.cap(run.history, self.settings.history_cap)
            self.runs[run.id] = run
        live = [run for run in self.runs.values() if run.status not in FINISHED]
        preload = getattr(self.checkpoints, "preload", None)
        kept = await asyncio.to_thread(preload, [r.id for r in live]) if preload else {}
        for run in live:
            if run.id in kept:  # resting with a checkpoint: Play resumes it exactly, as before the restart
                run.status, run.step = "paused", kept[run.id]
                run.history = [r for r in run.history if r["step"] <= run.step]
                run.message = "resting since the server restarted; Play resumes it exactly where it was"
            else:
                run.status = "stopped"
                run.message = "the server restarted while this run was live; reset it to train again"
            self._save(run)
        self._prune(None)  # retention at start: the oldest finished runs of anyone beyond max_runs_kept

    async def close(self) -> None:
        """Stop every worker (killing any that will not go), close every viewer, flush the database."""
        warm = getattr(self, "_warm", None)
        if warm is not None:
            await asyncio.wait([warm], timeout=60)
        if self.launching:
            await asyncio.wait(self.launching, timeout=60)
        if self._refresh is not None:
            self._refresh.cancel()
        for run in self.runs.values():
            resting = run.worker is None and run.status == "paused" and self.checkpoints.load_checkpoint(run.id)
            if run.status in LIVE and not resting:  # a resting run keeps its checkpoint: it resumes after a restart
                run.status, run.message, run.queue_position = "stopped", "the server shut down", None
                self._save(run)
            self.end_worker(run)
            self._set_timer(run, None)
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

    # -- queries ------------------------------------------------------------------------------------------------
    def get(self, run_id: str) -> Run | None:
        return self.runs.get(run_id)

    def list(self) -> list[Run]:
        return sorted(self.runs.values(), key=lambda r: r.created)

    # -- creating -----------------------------------------------------------------------------------------------
    async def create(self, spec: RunSpec, owner: str | None = None,
                     start: tuple[list[dict[str, Any]], bytes] | None = None) -> Run:
        """Check ``spec`` (raises the engine's UnknownName / Incompatible / SettingError) and the limits
        (:class:`LimitExceeded`), and queue a new run belonging to ``owner`` (the digest of its owner's token,
        app/owners.py). ``start``: (records, keyframe) to begin from instead of step 0 (a run reopened at
        another run's keyframe, app.runs.keyframes); its worker resumes from there like a parked run."""
        resolved = resolve(spec)
        self.admit(owner)  # refuse early, before the build
        # up to a few hundred ms, in a thread so that every stream keeps flowing: a rule that refuses the run's
        # size (RTRL's memory) is then a 422, not a failure
        await asyncio.to_thread(build, resolved)
        self.admit(owner)  # again: other runs may have been created while this one was built
        run = self._new_run(secrets.token_hex(6), full_config(resolved))
        run.owner = owner
        if start is not None:
            records, keyframe = start
            run.history, run.step = list(records), len(records)
            state = await asyncio.to_thread(lambda: checkpoint_bytes(decode_keyframe(keyframe, records)))
            self.checkpoints.save_checkpoint(run.id, run.step, state)
            self.store.add_records(run.id, run.history)
            self.store.save_keyframe(run.id, run.step, keyframe)
        self.runs[run.id] = run
        self._prune(owner_key(run))
        self._save(run)
        self.enqueue(run)
        return run

    def admit(self, owner: str | None, exclude: Run | None = None) -> None:
        """Raise :class:`LimitExceeded` unless one more active run of ``owner`` fits (see app.runs.limits)."""
        s = self.settings
        must_wait = self.workers >= s.max_concurrent_runs or bool(self.queue)
        admit(self.runs.values(), owner, len(self.queue), must_wait, s.max_runs_per_owner, s.max_queue, exclude)

    def _new_run(self, run_id: str, spec: dict[str, Any]) -> Run:
        s = self.settings
        hub = Hub(lambda: "", buffer=s.viewer_buffer, max_unacked=s.max_unacked_snapshots,
                  send_timeout=s.send_timeout_s, control_rate=s.control_rate)
        run = Run(run_id, spec, hub)
        hub.make_hello = lambda: self._hello(run)
        hub.on_change = lambda: self._viewers_changed(run)
        return run

    def _hello(self, run: Run) -> str:
        """The hello: run info and the history thinned to ``hello_points`` (the rest is paged over HTTP). The
        thinned history is encoded once per history state, however many viewers join."""
        h = run.history
        key = (len(h), h[0]["step"] if h else None, h[-1]["step"] if h else None)
        if run.hello_cache is None or run.hello_cache[0] != key:
            shown = history.thin(h, self.settings.hello_points)
            tail = dumps({"history_complete": len(shown) == len(h), "history_total": len(h)})
            run.hello_cache = (key, f'"history":{dumps(shown)},{tail[1:]}')
        return '{"type":"hello","run":' + dumps(run.info().model_dump()) + ',' + run.hello_cache[1]

    def _prune(self, owner: str | None) -> None:
        """Forget the oldest finished runs beyond ``max_runs_kept``: only ``owner``'s own when a run is created
        (creating never deletes another owner's runs), anyone's when ``owner`` is None (at start)."""
        extra = len(self.runs) - self.settings.max_runs_kept
        for run in sorted(self.runs.values(), key=lambda r: r.updated):
            if extra <= 0:
                break
            if owner is not None and owner_key(run) != owner:
                continue
            if run.status in FINISHED and run.worker is None and not run.hub.viewers:
                del self.runs[run.id]
                self.store.delete_run(run.id)
                self.checkpoints.delete_checkpoint(run.id)
                extra -= 1

    # -- the queue and the workers ------------------------------------------------------------------------------
    def enqueue(self, run: Run, autoplay: str | None = None) -> None:
        run.status, run.pending, run.autoplay = "queued", None, autoplay
        self.queue.append(run)
        self._pump()

    def unqueue_parked(self, run: Run) -> None:
        """Take a waiting parked run back out of the queue: it rests again, paused, with its checkpoint. A run
        without a checkpoint (a new one) stays queued."""
        if run not in self.queue or not self.checkpoints.load_checkpoint(run.id):
            return
        self.queue.remove(run)
        run.status, run.queue_position, run.autoplay = "paused", None, None
        run.message = "resting without a trainer; Play resumes it exactly where it was"
        self._pump()

    def _pump(self) -> None:
        """Start workers for queued runs while there are free slots; tell the rest their position and wait."""
        for run in list(self.queue):
            if self.workers >= self.settings.max_concurrent_runs:
                break
            if run.worker is not None:
                continue  # its previous worker is still handing over (a checkpoint on its way)
            self.queue.remove(run)
            run.queue_position, run.message = 0, "starting a trainer"
            self.changed(run)
            self.workers += 1
            task = asyncio.get_running_loop().create_task(self._launch(run))
            self.launching.add(task)
            task.add_done_callback(self.launching.discard)
        self._tell_queue()

    def _tell_queue(self) -> None:
        holders = [r for r in self.runs.values() if r.worker is not None or r.queue_position == 0]
        for position, run in enumerate(self.queue, 1):
            run.queue_position = position
            run.message = queue_message(position, self.settings.max_concurrent_runs, holders,
                                        self.settings.idle_release_s)
            self.changed(run)
        if self._refresh is not None:
            self._refresh.cancel()
            self._refresh = None
        if self.queue and self.loop is not None:
            self._refresh = self.loop.call_later(QUEUE_REFRESH_S, self._tell_queue)

    async def _launch(self, run: Run) -> None:
        if run.status != "queued" or run.worker is not None or run in self.queue:
            self.workers -= 1  # stopped, reset or relaunched between _pump and now: the slot is not used
            self._pump()
            return
        checkpoint = self.checkpoints.load_checkpoint(run.id)
        if checkpoint is None and run.step > 0:  # a parked run whose checkpoint never arrived
            self.workers -= 1
            self._fail(run, "its checkpoint was lost, so it cannot resume; reset it to train again")
            self._pump()
            return
        worker, (commands_child, events_child) = open_worker(self.ctx, run.id, run.spec, run.speed, self.settings,
                                                             checkpoint)
        run.worker = worker
        self.live.add(worker)
        try:
            await asyncio.to_thread(worker.process.start)  # forkserver's first start imports torch: off the loop
        except Exception as err:  # noqa: BLE001
            log.exception("could not start a worker for run %s", run.id)
            worker.commands.close()
            worker.events.close()
            if run.worker is worker:
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
        if run.worker is not worker or run.status != "queued":
            worker.ending = True  # stopped or reset while it was starting
        if worker.ending:
            worker.send("stop")

    def _on_message(self, run: Run, worker: Worker, message: tuple[str, Any]) -> None:
        if run.worker is not worker:
            return  # a worker detached from its run (by a reset while it was ending)
        kind, data = message
        if kind == "records":
            records = [clean_record(r) for r in data["records"]]
            run.history.extend(records)
            history.cap(run.history, self.settings.history_cap)
            run.step = records[-1]["step"]
            self.store.add_records(run.id, records)
            diverged = data["status"] == "diverged"
            run.hub.publish_metrics(dumps(MetricsMessage(records=records, diverged=diverged,
                                                              recorded=data.get("recorded")).model_dump()))
        elif kind == "snapshot":
            run.hub.publish_snapshot(data)
        elif kind == "ready":
            self._ready(run, worker, data)
        elif kind == "checkpoint":
            self.checkpoints.save_checkpoint(run.id, run.step, data)
        elif kind == "keyframe":
            self.store.save_keyframe(run.id, data["step"], data["data"])
        elif kind == "reset":
            run.history.clear()
            run.step = 0
            self.store.clear_records(run.id)
            run.hub.resync_all()
        elif kind == "state":
            run.cost = data["cost"]
            if run.status not in ("stopped", "error") and not worker.parking:  # (a parked run may be queued)
                run.status, run.step = data["status"], data["step"]
            if data["seq"] >= worker.seq or run.status in FINISHED:
                run.pending = None  # caught up with every command sent
            if run.status in FINISHED:
                self.checkpoints.delete_checkpoint(run.id)
                self.end_worker(run)  # done or diverged: the slot goes back now, the run stays viewable
            self.changed(run)
            worker.acknowledge(data["seq"])
            if self.queue:
                self._tell_queue()  # a slot holder's state (or speed) changes the waiting runs' estimates
        elif kind == "error":
            worker.ending = True  # it exits by itself now; a reset must start a new one
            self._fail(run, data)

    def _ready(self, run: Run, worker: Worker, data: dict[str, Any]) -> None:
        run.queue_position, run.message = None, None
        run.cost = data["cost"]
        if data.get("step"):
            run.step = data["step"]
        worker.send("speed", run.speed)  # it may have changed while the worker was starting
        if run.lr != data.get("lr", run.lr):
            worker.send("lr", run.lr)
        if run.status == "queued":
            run.status = "paused"
            if run.autoplay == "play":
                worker.send("play")
                run.pending = "running"
            elif run.autoplay == "step":
                worker.send("step")
                run.pending = "paused"
            run.autoplay = None
        self.changed(run)

    def _on_exit(self, run: Run, worker: Worker) -> None:
        worker.commands.close()
        worker.release()
        self.live.discard(worker)
        self.workers -= 1
        if run.worker is not worker:
            self._pump()
            return
        run.worker = None
        if worker.parking and run.status == "paused":
            if self.checkpoints.load_checkpoint(run.id) is None and run.step > 0:
                run.status = "stopped"
                run.message = "its worker ended before its checkpoint was kept; reset it to train again"
            else:
                run.message = (f"resting: nobody watched it for {self.settings.idle_release_s:g} s, so it gave its "
                               "trainer back; Play resumes it exactly where it was")
            self.changed(run)
        elif run.status in ("paused", "running") and not worker.ending:
            code = worker.process.exitcode
            self._fail(run, f"the worker process ended unexpectedly (exit code {code})")
        self._set_timer(run, None)
        self._pump()

    def _fail(self, run: Run, text: str) -> None:
        run.status, run.message, run.queue_position = "error", text, None
        if run in self.queue:
            self.queue.remove(run)
        self.checkpoints.delete_checkpoint(run.id)
        run.hub.publish_error(dumps({"type": "error", "message": text}))
        self.changed(run)

    def end_worker(self, run: Run) -> None:
        if run.worker is not None and not run.worker.ending:
            run.worker.ending = True
            run.worker.send("stop")

    def delete(self, run: Run) -> None:
        """Forget a run and everything kept for it (its records, checkpoint and keyframes); viewers are told it
        stopped. Its owner asked (the route checks)."""
        if run.status in LIVE:
            self.stop(run, "deleted by its owner")
            self.changed(run)
        self.runs.pop(run.id, None)
        self.store.delete_run(run.id)
        self.checkpoints.delete_checkpoint(run.id)

    def reset(self, run: Run) -> int | None:
        """Back to step 0, paused: a live worker resets itself (returns the command's sequence number); otherwise
        the run's history and records go and it queues for a fresh worker."""
        run.message, run.autoplay = None, None
        self.checkpoints.delete_checkpoint(run.id)
        worker = run.worker
        if worker is not None and not worker.ending and run.status in ("paused", "running"):
            run.pending = "paused"
            return worker.send("reset")  # the worker's "reset" message clears the history
        if run.status != "queued":
            self.admit(run.owner, exclude=run)
        run.history.clear()
        run.step = 0
        run.hub.resync_all()
        self.store.clear_records(run.id)
        if worker is not None:  # ending, or starting from a checkpoint that is no longer wanted: let it go
            self.end_worker(run)
            run.worker = None
        if run not in self.queue:
            self.enqueue(run)
        return None

    def stop(self, run: Run, message: str | None) -> None:
        """End a run for good (its history stays); its worker, if any, goes at once."""
        if run in self.queue:
            self.queue.remove(run)
        run.status, run.queue_position, run.autoplay, run.message = "stopped", None, None, message
        self.checkpoints.delete_checkpoint(run.id)
        self.end_worker(run)
        self._pump()

    # -- state changes ------------------------------------------------------------------------------------------
    def changed(self, run: Run) -> None:
        """Tell viewers, persist, and re-check the unwatched timers."""
        run.updated = time.time()
        status = StatusMessage(status=run.status, step=run.step,
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
        worker = run.worker
        kind = None
        if worker is not None and not worker.ending and not run.hub.viewers:
            now = run.pending or run.status
            kind = "pause" if now == "running" else "park" if now == "paused" else None
        self._set_timer(run, kind)
        if announce:
            self.changed(run)

    def touched(self, run: Run) -> None:
        """Someone controlled the run: restart its unwatched grace (``changed`` sets the timer again)."""
        self._set_timer(run, None)

    def _set_timer(self, run: Run, kind: str | None) -> None:
        if run.timer_kind == kind:
            return
        if run.timer is not None:
            run.timer.cancel()
        run.timer, run.timer_kind = None, kind
        if kind is not None and self.loop is not None:
            delay = self.settings.unwatched_pause_s if kind == "pause" else self.settings.idle_release_s
            run.timer = self.loop.call_later(delay, self._unwatched, run, kind)

    def _unwatched(self, run: Run, kind: str) -> None:
        """Nobody has watched ``run`` for the grace: pause it (running) or park it (paused)."""
        run.timer, run.timer_kind = None, None
        worker = run.worker
        if run.hub.viewers or worker is None or worker.ending:
            return
        if kind == "pause" and (run.pending or run.status) == "running":
            worker.send("pause")
            run.pending = "paused"
            run.message = f"paused: nobody watched it for {self.settings.unwatched_pause_s:g} s"
            self.changed(run)  # schedules the park timer
        elif kind == "park" and (run.pending or run.status) == "paused":
            worker.parking = worker.ending = True
            worker.send("park")  # the worker sends its checkpoint and exits; _on_exit says the run is resting
            self.changed(run)
        else:
            self._viewers_changed(run, announce=False)

    # -- controls -----------------------------------------------------------------------------------------------
    async def control(self, run: Run, control: Control) -> Run:
        """Apply a control or raise :class:`Conflict` / :class:`LimitExceeded` saying why it does not fit.

        Commands that a worker carries out (play, pause, step, reset) return once the worker has confirmed them
        (bounded wait), so the answer shows the run's real state and every record made before it; one that sends
        the run through the queue waits (bounded) for the worker to start when a slot is free.
        """
        seq = self.apply(run, control)
        timeout = self.settings.worker_stop_timeout_s
        if seq is None and run.status == "queued" and run.queue_position == 0:
            deadline = time.monotonic() + 3 * timeout
            while run.status == "queued" and run.queue_position == 0 and time.monotonic() < deadline:
                await asyncio.sleep(0.02)
            if run.worker is not None and run.status != "queued":
                seq = run.worker.seq
        if seq is not None and run.worker is not None:
            await run.worker.wait_for(seq, timeout)
        return run

    def apply(self, run: Run, control: Control) -> int | None:
        """Apply a control without waiting for the worker; returns the command's sequence number, if any."""
        return controls.apply(self, run, control)

    async def handle_ws_control(self, run: Run, message: ControlMessage) -> str | None:
        """A control that came over a websocket: None if applied, else the reason for the viewer. Does not wait
        for the worker (this viewer's acks keep flowing); the outcome arrives as status and metrics messages."""
        try:
            self.apply(run, message.control)
        except (Conflict, LimitExceeded) as err:
            return str(err)
        return None

"""The server's link to one worker process: its pipes, the commands it has confirmed, its reader thread, reaping.

Commands go out on one pipe with a sequence number (:meth:`Worker.send`); the worker's ``state`` messages say the
last one it handled (:meth:`Worker.acknowledge`), so a control can wait until the worker has carried it out. A
reader thread per worker blocks on the events pipe and hands every message to the event loop with
``loop.call_soon_threadsafe``; when the pipe closes it joins (or kills) the process and says so the same way.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.context import BaseContext
from multiprocessing.process import BaseProcess
from typing import Any

from app.runs.worker import worker_main
from app.settings import Settings


@dataclass(eq=False)
class Worker:
    """One worker process and the server's ends of its pipes."""

    process: BaseProcess
    commands: Connection
    events: Connection
    reader: threading.Thread | None = None
    ending: bool = False
    parking: bool = False
    """Told to checkpoint and exit (its run stays paused without a worker)."""
    seq: int = 0
    acked: int = 0
    waiters: list[tuple[int, asyncio.Future[None]]] = field(default_factory=list)

    def send(self, name: str, value: float | None = None) -> int:
        """Send a command; returns its sequence number (see :meth:`acknowledge`)."""
        self.seq += 1
        try:
            self.commands.send((name, value, self.seq))
        except (OSError, ValueError):
            pass  # the worker is gone; its reader thread reports that
        return self.seq

    def acknowledge(self, seq: int) -> None:
        self.acked = max(self.acked, seq)
        keep = []
        for want, fut in self.waiters:
            if want <= seq:
                if not fut.done():
                    fut.set_result(None)
            else:
                keep.append((want, fut))
        self.waiters = keep

    async def wait_for(self, seq: int, timeout: float) -> None:
        """Wait (bounded) until the worker has reported a state after handling command ``seq``."""
        if self.acked >= seq:
            return
        fut = asyncio.get_running_loop().create_future()
        self.waiters.append((seq, fut))
        try:
            await asyncio.wait_for(fut, timeout)
        except TimeoutError:
            pass

    def release(self) -> None:
        """Wake every waiter (the worker is gone)."""
        self.acknowledge(self.seq)

    def start_reader(self, loop: asyncio.AbstractEventLoop | None, name: str, on_message: Callable[[Any], None],
                     on_exit: Callable[[], None], stop_timeout_s: float) -> None:
        """Start the reader thread: ``on_message(message)`` for each message, then ``on_exit()``, on ``loop``."""
        self.reader = threading.Thread(target=self._read, args=(loop, on_message, on_exit, stop_timeout_s),
                                       name=name, daemon=True)
        self.reader.start()

    def _read(self, loop: asyncio.AbstractEventLoop | None, on_message: Callable[[Any], None],
              on_exit: Callable[[], None], stop_timeout_s: float) -> None:
        """Reader thread: every message from the worker goes to the event loop, then the exit."""
        assert loop is not None
        try:
            while True:
                try:
                    message = self.events.recv()
                except (EOFError, OSError):
                    break
                _post(loop, on_message, message)
        finally:
            self.process.join(stop_timeout_s)
            if self.process.is_alive():
                self.process.kill()
                self.process.join(5)
            self.events.close()
            _post(loop, on_exit)


def open_worker(ctx: BaseContext, run_id: str, spec: dict[str, Any], speed: float, settings: Settings,
                checkpoint: bytes | None = None) -> tuple[Worker, tuple[Connection, Connection]]:
    """A worker process for a run (resuming from ``checkpoint`` if given), not started yet, and the child's ends
    of its pipes (close them once the process has started, or failed to)."""
    commands_child, commands = ctx.Pipe(duplex=False)
    events, events_child = ctx.Pipe(duplex=False)
    s = settings
    process = ctx.Process(
        target=worker_main, name=f"creditlab-run-{run_id}", daemon=True,
        args=(spec, commands_child, events_child, s.fps, s.snapshot_fps, speed, s.plugins, checkpoint))
    return Worker(process, commands, events), (commands_child, events_child)


def reap(workers: list[Worker], stop_timeout_s: float) -> None:
    """Wait for the reader threads, which join (or kill) their processes; only they touch the process."""
    deadline = time.monotonic() + stop_timeout_s + 10
    for w in workers:
        if w.reader is not None:
            w.reader.join(max(0.0, deadline - time.monotonic()))
        if w.process.is_alive():  # no reader (or a stuck one): last resort
            w.process.kill()


def _post(loop: asyncio.AbstractEventLoop, fn: Any, *args: Any) -> None:
    try:
        loop.call_soon_threadsafe(fn, *args)
    except RuntimeError:
        pass  # the loop has closed: the server is gone

"""The worker: one process per run, started with spawn or forkserver (never plain fork).

It builds the engine's :class:`~engine.training.Trainer`, then obeys commands from the server on one pipe and sends
what happened on another. Training runs at full speed, or at ``speed`` updates per second; what it sends is
decimated by wall clock, never by step count:

* ``("records", {"records": [...], "status": s})`` at most ``fps`` times a second, carrying *every* record since
  the previous one;
* ``("snapshot", bytes)`` at most ``snapshot_fps`` times a second: a finished binary frame
  (:func:`app.protocol.encode_snapshot`), so the server forwards it without touching it;
* ``("state", {"status", "step", "cost", "speed", "lr"})`` after every command and whenever the status changes;
* ``("ready", {"step", "cost", "lr"})`` once the trainer is built (or restored from a checkpoint: then ``step`` is
  where it resumes), ``("error", text)`` if anything raises (then the process exits);
* ``("checkpoint", bytes)`` on ``park``: ``torch.save`` of ``Trainer.state_dict()``, after which it exits;
* ``("keyframe", {"step", "data"})`` at step 0, every ``keyframe_every(steps)`` updates and at the end: the training
  state without its history (the server keeps the records), for replay and for reopening a run at that step.

Commands are tuples ``(name, value, seq)`` with name one of play, pause, step, reset, stop, park, speed, lr (value
is None except for speed and lr). Each ``state`` message carries the ``seq`` of the last command handled, so the
server knows which of its commands a state already reflects. The server closing the command pipe means stop.
"""

from __future__ import annotations

import importlib
import io
import time
import traceback
from multiprocessing.connection import Connection
from typing import Any

import torch

from app.protocol import encode_snapshot, snapshot_arrays
from app.runs.keyframes import encode_keyframe, keyframe_every
from engine.spec import parse_spec, resolve
from engine.training import Trainer


class _Worker:
    def __init__(self, spec: dict[str, Any], commands: Connection, out: Connection, fps: float,
                 snapshot_fps: float, speed: float, checkpoint: bytes | None = None):
        self.resolved = resolve(parse_spec(spec))
        self.commands, self.out = commands, out
        self.flush_every, self.snapshot_every = 1.0 / fps, 1.0 / snapshot_fps
        self.speed = speed
        self.trainer = Trainer(self.resolved)
        if checkpoint is not None:
            self.trainer.load_state_dict(torch.load(io.BytesIO(checkpoint), weights_only=True))
        self.keyframe_every = keyframe_every(self.trainer.spec.steps)
        self.playing = False
        self.quit = False
        self.seq = 0
        self.pending: list[dict[str, Any]] = []
        self.last_flush = self.last_snapshot = self.next_step = time.monotonic()

    # -- sending ------------------------------------------------------------------------------------------------
    def status(self) -> str:
        t = self.trainer
        if t.status != "running":
            return t.status
        if t.finished:
            return "done"
        return "running" if self.playing else "paused"

    def send_state(self) -> None:
        self.out.send(("state", {"status": self.status(), "step": self.trainer.step_count,
                                 "cost": self.trainer.cost(), "speed": self.speed,
                                 "lr": self.trainer.spec.optim.lr, "seq": self.seq}))

    def flush(self) -> None:
        if self.pending:
            self.out.send(("records", {"records": self.pending, "status": self.status(), "recorded": time.time()}))
            self.pending = []
        self.last_flush = time.monotonic()

    def send_snapshot(self) -> None:
        snap = self.trainer.snapshot()
        meta, arrays = snapshot_arrays(snap)
        self.out.send(("snapshot", encode_snapshot(snap["step"], meta, arrays)))
        self.last_snapshot = time.monotonic()

    def send_keyframe(self) -> None:
        self.out.send(("keyframe", {"step": self.trainer.step_count, "data": encode_keyframe(self.trainer)}))

    # -- commands -----------------------------------------------------------------------------------------------
    def handle(self, cmd: tuple[Any, ...]) -> None:
        name, value, self.seq = cmd
        t = self.trainer
        if name == "stop":
            t.stop()
            self.quit = True
            self.flush()
            return
        if name == "park":
            self.playing = False
            self.flush()
            buffer = io.BytesIO()
            torch.save(t.state_dict(), buffer)
            self.out.send(("checkpoint", buffer.getvalue()))
            self.quit = True
            return
        if name == "play":
            self.playing = not t.finished
            self.next_step = time.monotonic()
        elif name == "pause":
            was_playing, self.playing = self.playing, False
            self.flush()
            if was_playing:  # a pause that changes nothing builds no snapshot
                self.send_snapshot()
        elif name == "step":
            if not t.finished:
                self.playing = False
                self.train_one()
                self.flush()
                self.send_snapshot()
        elif name == "reset":
            lr = t.spec.optim.lr
            self.pending = []
            self.trainer = Trainer(self.resolved)
            if lr != self.trainer.spec.optim.lr:
                self.trainer.set_lr(lr)
            self.playing = False
            self.out.send(("reset", {}))
            self.send_keyframe()
            self.send_snapshot()
        elif name == "speed":
            self.speed = float(value)
            self.next_step = time.monotonic()
        elif name == "lr":
            t.set_lr(float(value))
        elif name == "synapse":
            if t.show_synapse(*value):  # the page asked for another synapse's credit: show it at once
                self.send_snapshot()
        self.send_state()

    def train_one(self) -> None:
        self.pending.append(self.trainer.train_step().to_dict())
        if self.trainer.step_count % self.keyframe_every == 0 or self.trainer.finished:
            self.flush()  # the records before the keyframe they belong to
            self.send_keyframe()
        if self.trainer.finished:  # done or diverged: tell everything now, then wait for commands
            self.playing = False
            self.flush()
            self.send_snapshot()
            self.send_state()

    # -- main loop ----------------------------------------------------------------------------------------------
    def loop(self) -> None:
        if self.trainer.step_count == 0:
            self.send_keyframe()
        self.send_snapshot()
        while not self.quit:
            now = time.monotonic()
            if self.playing:
                wait = max(0.0, self.next_step - now) if self.speed > 0 else 0.0
                if self.pending:
                    wait = min(wait, max(0.0, self.last_flush + self.flush_every - now))
            else:
                wait = None  # idle: block until the server says something
            try:
                if self.commands.poll(wait):
                    self.handle(self.commands.recv())
                    while not self.quit and self.commands.poll(0):
                        self.handle(self.commands.recv())
                    continue
            except (EOFError, OSError):
                self.trainer.stop()
                return
            now = time.monotonic()
            if self.playing and now >= self.next_step:
                self.train_one()
                if self.speed > 0:
                    self.next_step = max(self.next_step + 1.0 / self.speed, now)
            now = time.monotonic()
            if self.pending and now - self.last_flush >= self.flush_every:
                self.flush()
            if self.playing and now - self.last_snapshot >= self.snapshot_every:
                self.send_snapshot()


def worker_main(spec: dict[str, Any], commands: Connection, out: Connection, fps: float, snapshot_fps: float,
                speed: float, plugins: list[str], checkpoint: bytes | None = None) -> None:
    """Process entry point. Never raises: a failure becomes an ``("error", text)`` message and exit code 1."""
    torch.set_num_threads(1)
    code = 0
    worker: _Worker | None = None
    try:
        for module in plugins:
            importlib.import_module(module)
        worker = _Worker(spec, commands, out, fps, snapshot_fps, speed, checkpoint)
        t = worker.trainer
        out.send(("ready", {"step": t.step_count, "cost": t.cost(), "lr": t.spec.optim.lr}))
        worker.loop()
    except (BrokenPipeError, EOFError, KeyboardInterrupt):
        pass  # the server went away or ended us; nothing left to tell
    except BaseException as err:  # noqa: BLE001 - every failure must reach the viewers as a message
        code = 1
        text = "".join(traceback.format_exception_only(type(err), err)).strip()
        try:
            if worker is not None:
                worker.flush()  # the updates that did happen are part of the history
            out.send(("error", text))
        except (OSError, ValueError):
            pass
    finally:
        for conn in (commands, out):
            conn.close()
    raise SystemExit(code)

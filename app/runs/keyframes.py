"""Keyframes: a run's training state kept at intervals over its whole length, for replay and for reopening.

A keyframe is :meth:`engine.training.Trainer.state_dict` without the history (the server already keeps every record,
so storing it again in each keyframe would grow as T²), written with ``torch.save``. A run keeps one at step 0, one
every :func:`keyframe_every` updates and one at its end: at most about :data:`KEYFRAMES` + 2 per run, whatever its
length. To resume from one, put the records up to its step back in (:func:`decode_keyframe`): the trainer then goes
on exactly as the original did (same weights, optimizer state, generators and step count).
"""

from __future__ import annotations

import io
import math
from typing import Any

import torch

from engine.training import Trainer

#: About how many keyframes one run keeps over its length.
KEYFRAMES = 20


def keyframe_every(steps: int) -> int:
    """Updates between keyframes for a run of ``steps`` updates."""
    return max(1, math.ceil(steps / KEYFRAMES))


def encode_keyframe(trainer: Trainer) -> bytes:
    state = trainer.state_dict()
    state["history"] = []
    buffer = io.BytesIO()
    torch.save(state, buffer)
    return buffer.getvalue()


def decode_keyframe(data: bytes, records: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The state in ``data``, with ``records`` (the run's records up to the keyframe's step) as its history."""
    state = torch.load(io.BytesIO(data), weights_only=True)
    state["history"] = [{k: r.get(k) for k in ("step", "loss", "accuracy", "ms", "alignment")}
                        for r in (records or [])]
    return state


def trainer_at(spec: dict[str, Any], data: bytes, records: list[dict[str, Any]]) -> Trainer:
    """A trainer for ``spec`` restored from a keyframe (blocking: call it in a thread)."""
    from engine.spec import parse_spec

    trainer = Trainer(parse_spec(spec))
    trainer.load_state_dict(decode_keyframe(data, records))
    return trainer


def checkpoint_bytes(state: dict[str, Any]) -> bytes:
    """A full training state (with history), as a parked run's checkpoint, so a worker can resume from it."""
    buffer = io.BytesIO()
    torch.save(state, buffer)
    return buffer.getvalue()

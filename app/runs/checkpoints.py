"""Where a parked run's checkpoint lives while it has no worker.

A checkpoint is the bytes of ``torch.save(Trainer.state_dict())`` (weights, optimizer state, generator states,
the rule's own state, history, step): the worker writes it, the server only keeps it and hands it to the run's next
worker. :class:`CheckpointStore` is all the manager needs; :class:`MemoryCheckpoints` keeps them in this process
(lost on restart, like the worker they replace). A database-backed store with the same three methods can replace
it without any other change.
"""

from __future__ import annotations

from typing import Protocol


class CheckpointStore(Protocol):
    def save_checkpoint(self, run_id: str, data: bytes) -> None: ...

    def load_checkpoint(self, run_id: str) -> bytes | None: ...

    def delete_checkpoint(self, run_id: str) -> None: ...


class MemoryCheckpoints:
    """Checkpoints in a dict, by run id."""

    def __init__(self) -> None:
        self._data: dict[str, bytes] = {}

    def save_checkpoint(self, run_id: str, data: bytes) -> None:
        self._data[run_id] = data

    def load_checkpoint(self, run_id: str) -> bytes | None:
        return self._data.get(run_id)

    def delete_checkpoint(self, run_id: str) -> None:
        self._data.pop(run_id, None)

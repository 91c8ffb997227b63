"""Where a parked run's checkpoint lives while it has no worker.

A checkpoint is the bytes of ``torch.save(Trainer.state_dict())`` (weights, optimizer state, generator states,
the rule's own state, history, step): the worker writes it, the server only keeps it and hands it to the run's next
worker. :class:`CheckpointStore` is all the manager needs. :class:`MemoryCheckpoints` keeps them in this process
(lost on restart); :class:`StoredCheckpoints` keeps the same in memory for the event loop and writes each one
through to the database (``app.store``), so that a resting run survives a server restart and resumes exactly.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable, Protocol

if TYPE_CHECKING:
    from app.store import Store


class CheckpointStore(Protocol):
    def save_checkpoint(self, run_id: str, step: int, data: bytes) -> None: ...

    def load_checkpoint(self, run_id: str) -> bytes | None: ...

    def delete_checkpoint(self, run_id: str) -> None: ...


class MemoryCheckpoints:
    """Checkpoints in a dict, by run id."""

    def __init__(self) -> None:
        self._data: dict[str, bytes] = {}

    def save_checkpoint(self, run_id: str, step: int, data: bytes) -> None:
        self._data[run_id] = data

    def load_checkpoint(self, run_id: str) -> bytes | None:
        return self._data.get(run_id)

    def delete_checkpoint(self, run_id: str) -> None:
        self._data.pop(run_id, None)


class StoredCheckpoints(MemoryCheckpoints):
    """Checkpoints in memory (reads never block the event loop) and, written through, in the database."""

    def __init__(self, store: Store) -> None:
        super().__init__()
        self.store = store

    def save_checkpoint(self, run_id: str, step: int, data: bytes) -> None:
        super().save_checkpoint(run_id, step, data)
        self.store.save_checkpoint(run_id, step, data)  # queued for the store's writer thread

    def delete_checkpoint(self, run_id: str) -> None:
        super().delete_checkpoint(run_id)
        self.store.delete_checkpoint(run_id)

    def preload(self, run_ids: Iterable[str]) -> dict[str, int]:
        """Read the stored checkpoints of ``run_ids`` into memory (blocking: call it off the event loop, at
        start-up); returns the step of each one found."""
        found = {}
        for run_id in run_ids:
            stored = self.store.load_checkpoint(run_id)
            if stored is not None:
                found[run_id], self._data[run_id] = stored
        return found

"""A test-only plugin: registers task ``explode``, which raises on its second training batch.

Imported by the server (``Settings.plugins``) and by each worker, so a worker really fails mid-run.
"""

from __future__ import annotations

import torch

from engine.tasks import TASKS
from engine.tasks.add import Add
from engine.trial import Trial


@TASKS.register("explode")
class Explode(Add):
    description = "Test only: fails on its second training batch."
    calls = 0

    def sample(self, batch: int, generator: torch.Generator) -> Trial:
        if batch > 1:
            Explode.calls += 1
            if Explode.calls >= 2:
                raise RuntimeError("boom: the task exploded")
        return super().sample(batch, generator)

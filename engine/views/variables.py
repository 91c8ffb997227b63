"""The state variables a network declares for display, over the example trial.

A network that declares ``state_variables`` (name → what it is, ``engine.archs.base``) and implements
``trajectory(inputs)`` and ``variables(trajectory)`` gets each declared variable drawn as units × time: a GRU's
update and reset gates, for instance. Spiking networks are left to :mod:`engine.spiking_view`, which draws their
membrane potential, threshold and spikes with the cell types; nothing here names an architecture.
"""

from __future__ import annotations

from typing import Any

import torch


@torch.no_grad()
def variables_view(arch: Any, inputs: torch.Tensor) -> dict[str, Any] | None:
    """For a trial [T, B, I]: ``values`` {name: float32 [T, n] of trial 0} and ``about`` {name: description} of
    every declared variable, or ``None`` when the network declares none (or is spiking: see the module note)."""
    declared: dict[str, str] = dict(getattr(arch, "state_variables", {}) or {})
    if not declared or "spiking" in arch.provides:
        return None
    values = arch.variables(arch.trajectory(inputs))
    return {
        "values": {k: values[k][:, 0].detach().to(torch.float32).numpy() for k in declared},
        "about": declared,
    }

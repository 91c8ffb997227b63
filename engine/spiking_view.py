"""What a page shows of a spiking network on the example trial: spikes, membrane potential and threshold of every
neuron, each neuron's cell type, and whether the network is silent or saturated.

Firing rate of the trial (Hz), with z the spikes [T, n] and dt the step in ms:

    r = (Σ_t,j z_tj) / (T · n) · 1000 / dt                                                                   (1)

The network is *silent* when no neuron spikes on the trial, and *saturated* when neurons spike at more than half
of the rate the refractory period allows, 1000 / max(dt, refractory) Hz: then a spike says nearly nothing about
the input, and the pseudo-derivative that carries credit is small almost everywhere.
"""

from __future__ import annotations

from typing import Any

import torch

#: Cell-type codes of ``cell_type`` (one number per neuron, for the page's colours).
CELL_TYPES = {0: "excitatory", 1: "excitatory, adaptive", 2: "inhibitory", 3: "inhibitory, adaptive"}


@torch.no_grad()
def spiking_view(arch: Any, inputs: torch.Tensor) -> dict[str, Any]:
    """For a network that provides "spiking" (``trajectory``, ``variables``, ``cell_types``) and a trial [T, B, I]:
    float32 numpy arrays of trial 0 (``spikes``, ``v``, ``threshold`` [T, n], ``cell_type`` [n]) and the firing
    summary (``rate_hz``, ``silent``, ``saturated``)."""
    values = arch.variables(arch.trajectory(inputs))
    z, v, th = (values[k][:, 0].to(torch.float32) for k in ("z", "v", "threshold"))
    types = arch.cell_types()
    code = (~types["excitatory"]).to(torch.float32) * 2 + types["adaptive"].to(torch.float32)
    c = arch.config
    rate = float(z.mean()) * 1000.0 / c.dt  # Eq. (1)
    ceiling = 1000.0 / max(c.dt, c.refractory)
    return {
        "spikes": z.numpy(), "v": v.numpy(), "threshold": th.numpy(), "cell_type": code.numpy(),
        "rate_hz": rate, "silent": bool(z.sum() == 0), "saturated": rate > 0.5 * ceiling,
    }

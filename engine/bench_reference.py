"""The plain PyTorch BPTT loop: the reference row of ``engine.bench`` (a benchmark yardstick, not a credit rule).

The same leaky tanh network as ``engine.archs.rnn``, written the way one would by hand — plain tensors, one
``for`` loop over time, a ``loss.backward()`` and a stock optimizer:

    u_t = h_{t−1} W_recᵀ + x_t W_inᵀ + b,      h_t = (1 − α) h_{t−1} + α tanh(u_t)                    (1)
    y = H W_outᵀ + b_out   on the stacked activity H = [h_1 … h_T]                                      (2)
    L = Σ_{t,b} m_{t,b} ℓ(y_{t,b}, y*_{t,b}) / Σ m,   ℓ = −Σ_k y*_k log softmax(y)_k  (or ½‖y − y*‖²)   (3)

It starts from a copy of an engine network's weights and is timed on the same trials, so the engine's BPTT
(``engine.rules.bptt``) can be held to it: same numbers, and no slower.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from engine.archs.rnn import RNN
from engine.trial import Trial


class PlainBPTT:
    """Eqs. (1)–(3) and a ``torch.optim`` optimizer over copies of ``arch``'s parameters (density 1, tanh)."""

    def __init__(self, arch: RNN, optimizer: type[torch.optim.Optimizer] = torch.optim.Adam, **options: float):
        assert arch.config.density == 1 and arch.config.nonlinearity == "tanh", "the plain loop is the dense tanh net"
        self.alpha, self.h0, self.xent = arch.alpha, arch.config.h0, True
        self.params = {k: p.detach().clone().requires_grad_(True) for k, p in arch.named_parameters()}
        self.optimizer = optimizer(list(self.params.values()), **options)

    def loss(self, trial: Trial) -> torch.Tensor:
        p, a = self.params, self.alpha
        h = torch.full((trial.batch, p["W_rec"].shape[0]), self.h0, dtype=p["W_rec"].dtype)
        hs = []
        for x_t in trial.inputs:  # Eq. (1)
            h = (1 - a) * h + a * torch.tanh(h @ p["W_rec"].T + x_t @ p["W_in"].T + p["b"])
            hs.append(h)
        y = torch.stack(hs) @ p["W_out"].T + p["b_out"]  # Eq. (2)
        if self.xent:  # Eq. (3)
            terms = -(trial.targets * F.log_softmax(y, -1)).sum(-1)
        else:
            terms = 0.5 * ((y - trial.targets) ** 2).sum(-1)
        return (terms * trial.mask).sum() / trial.mask.sum()

    def update(self, trial: Trial) -> torch.Tensor:
        """One training step: forward, backward, optimizer step; returns the loss."""
        self.optimizer.zero_grad(set_to_none=True)
        loss = self.loss(trial)
        loss.backward()
        self.optimizer.step()
        return loss.detach()

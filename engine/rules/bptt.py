"""Backpropagation through time (Werbos 1990): the exact gradient, and the oracle every other rule is tested against.

The network is unrolled over the whole trial and autograd runs the adjoint recursion backwards in time,

    δ_t = ∂L/∂s_t = ∂ℓ_t/∂s_t + δ_{t+1} J_{t+1},       ∂L/∂θ = Σ_t δ_t M̄_t,                    (1)

with J and M̄ as in ``engine.archs.base``. Eq. (1) runs from the end of the trial to its start, so every state and
pre-activation of the trial must be stored first: memory grows with the trial length T — the reason BPTT is not
thought to be what neurons do.
"""

from __future__ import annotations

import torch

from engine.rules import RULES
from engine.rules.base import CreditRule, Pass, state_size
from engine.tasks.base import Task
from engine.trial import Trial


@RULES.register("bptt")
class BPTT(CreditRule):
    description = "Backpropagation through time: exact, but stores the whole trial and runs backwards."
    reference = "Werbos 1990, Proc. IEEE 78:1550"
    exact = True
    online = False

    def gradients(self, task: Task, trial: Trial) -> tuple[dict[str, torch.Tensor], Pass]:
        params = self.trainable()
        with torch.enable_grad():
            activity, outputs = self.arch.run(trial.inputs)
            loss = task.loss(outputs, trial)
            grads = torch.autograd.grad(loss, list(params.values()), allow_unused=True)  # Eq. (1)
        out = {k: (g if g is not None else torch.zeros_like(p)) for (k, p), g in zip(params.items(), grads)}
        return out, Pass(loss.detach(), outputs.detach(), activity.detach())

    def state_bytes(self, batch: int, steps: int) -> int:
        """Every step's state and pre-activation, for the whole trial: T·B·(S + n) numbers."""
        return steps * batch * (state_size(self.arch) + self.arch.n_units) * self.itemsize()

"""Backpropagation through time (Werbos 1990): the exact gradient, and the oracle every other rule is tested against.

The network is unrolled over the whole trial and autograd runs the adjoint recursion backwards in time,

    δ_t = ∂L/∂s_t = ∂ℓ_t/∂s_t + δ_{t+1} J_{t+1},       ∂L/∂θ = Σ_t δ_t M̄_t,                    (1)

with J and M̄ as in ``engine.archs.base``. Eq. (1) runs from the end of the trial to its start, so every state and
pre-activation of the trial must be stored first: memory grows with the trial length T — the reason BPTT is not
thought to be what neurons do. Its state (``engine.rules.base`` Eq. 3) is the stored trajectory:

    fixed_bytes = 0,      per_step_bytes = B · (S + n) numbers   (each step's state s_t and pre-activation u_t)   (2)

Nothing is fixed: the current state is the newest entry of the trajectory, and the adjoint δ_t of Eq. (1) fits in
the storage of the steps the backward sweep has already consumed. So the state doubles when T doubles. For the rnn
this is also what the computation holds: its ``run`` is one autograd node (``engine.archs.rnn.Trial``) that saves
h_t and φ(u_t) per step and writes ∂L/∂u_t over φ(u_t) on the way back (peak ≈ 1.05–1.25× Eq. 2 in bench/speed.py).
"""

from __future__ import annotations

import torch

from engine.rules import RULES
from engine.rules.base import CreditRule, Pass, Work, bptt_work, state_size
from engine.tasks.base import Task
from engine.trial import Trial


@RULES.register("bptt")
class BPTT(CreditRule):
    description = "Backpropagation through time: exact, but stores the whole trial and runs backwards."
    reference = "Werbos 1990, Proc. IEEE 78:1550"
    needs = frozenset({"differentiable_step"})
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

    def memory(self, batch: int) -> tuple[int, int]:
        """Eq. (2)."""
        return 0, batch * trajectory_row(self)

    def work(self, batch: int, steps: int) -> Work:
        """``engine.rules.base`` Eq. (4)."""
        return bptt_work(self.arch, batch, steps)


def trajectory_row(rule: CreditRule) -> int:
    """Bytes of one trial's stored step in BPTT-like rules: state s_t and pre-activation u_t, S + n numbers."""
    return (state_size(rule.arch) + rule.arch.n_units) * rule.itemsize()

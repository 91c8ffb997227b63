"""Readout-only learning: the reservoir baseline (echo-state networks, Jaeger 2001; liquid-state machines,
Maass, Natschläger & Markram 2002).

The recurrent circuit keeps its initial random weights; only the linear readout y_t = W_out a_t + b_out learns, with
its exact gradient (``engine.rules.base`` Eq. 2):

    ∂L/∂W_out = Σ_t ε_t a_tᵀ,     ∂L/∂b_out = Σ_t ε_t,     ε_t = ∂L/∂y_t                              (1)

Eq. (1) is a running sum, so it needs only the current activity: nothing of the trial's past is kept. Whatever
the task asks beyond what the fixed dynamics happen to remember cannot be learned — the floor every rule that
trains the recurrent weights must beat. Its state (``engine.rules.base`` Eq. 3):

    fixed_bytes = B · S numbers (the current state),      per_step_bytes = 0                             (2)
"""

from __future__ import annotations

import torch
from torch import nn

from engine.rules import RULES
from engine.rules.base import CreditRule, Pass, Work, readout_grads, state_size
from engine.tasks.base import Task
from engine.trial import Trial


@RULES.register("readout")
class Readout(CreditRule):
    description = "Readout only: the recurrent network stays random (a reservoir) and only the output weights learn."
    reference = "Jaeger 2001, GMD Report 148; Maass, Natschläger & Markram 2002, Neural Comput 14:2531"
    exact = False
    approximates = "the BPTT gradient restricted to W_out and b_out (the recurrent parameters held fixed)"
    online = True
    supports = frozenset({"rnn", "lif"})

    def trainable(self) -> dict[str, nn.Parameter]:
        """Only W_out and b_out: the optimizer never sees the recurrent parameters."""
        return self.arch.readout_parameters()

    @torch.no_grad()
    def gradients(self, task: Task, trial: Trial) -> tuple[dict[str, torch.Tensor], Pass]:
        activity, outputs = self.arch.run(trial.inputs)
        errors = task.output_error(outputs, trial, slice(None))  # ε_t for every step
        return readout_grads(errors, activity), Pass(task.loss(outputs, trial), outputs, activity)  # Eq. (1)

    def memory(self, batch: int) -> tuple[int, int]:
        """Eq. (2)."""
        return batch * state_size(self.arch) * self.itemsize(), 0

    def work(self, batch: int, steps: int) -> Work:
        """The forward pass without a graph and Eq. (1): about 2·T·B·(P + 2·n·O) flops, calls about 0.9 of a
        tiny-network step per step (forward only, no graph)."""
        P = sum(p.numel() for p in self.arch.recurrent_parameters().values())
        return Work(2.0 * steps * batch * (P + 2 * self.arch.n_units * self.arch.n_outputs), 0.0, 0.9 * steps)

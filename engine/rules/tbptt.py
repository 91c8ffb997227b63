"""Truncated backpropagation through time (Williams & Peng 1990), in its *epochwise* form (E-BPTT of
Marschall, Cho & Savin 2020): the trial is cut into non-overlapping windows of k = ``window`` steps,

    W_w = [w·k, min((w+1)·k, T)),       w = 0, 1, …                                              (1)

and each window starts from the state the previous one left, *treated as a constant*:

    s_{w·k} enters window w as stop_gradient(s_{w·k})                                              (2)

Within a window the credit runs backwards exactly as in BPTT (``engine.rules.bptt`` Eq. 1), so the gradient is

    ĝ = Σ_w ∂L_w/∂θ,      L_w = the part of the loss L (``engine.tasks.base`` Eq. 1) from steps in W_w      (3)

with the derivative taken through window w alone. In words: the error at step t gives credit to the steps of its
own window up to t — at most k steps back, and fewer near the start of a window. ĝ is *exactly* the autograd
gradient of L on the modified graph in which the state is detached every k steps (Eq. 2); with k ≥ T there is one
window and ĝ is the BPTT gradient. Only one window is stored at a time, so the state (``engine.rules.base``
Eq. 3) is at most k steps of BPTT's trajectory (``engine.rules.bptt`` Eq. 2), and does not grow with T:

    fixed_bytes = k · B · (S + n),      per_step_bytes = 0,      state_bytes = min(k, T) · B · (S + n)       (4)

(for T < k the single window is the whole trial: then the rule keeps what BPTT keeps, no more).
"""

from __future__ import annotations

from typing import Any

import torch
from pydantic import Field

from engine.config import ConfigModel
from engine.rules import RULES
from engine.rules.base import CreditRule, Pass, Work, bptt_work
from engine.rules.bptt import trajectory_row
from engine.tasks.base import Task
from engine.trial import Trial


class TBPTTConfig(ConfigModel):
    window: int = Field(10, ge=1, le=100_000)
    """Truncation window k in steps: credit flows back at most k steps, to the start of its window."""


def detached(state: Any) -> Any:
    """The same state with every field cut from the graph (Eq. 2)."""
    return type(state)(*(f.detach() for f in state))


@RULES.register("tbptt")
class TBPTT(CreditRule):
    Config = TBPTTConfig
    description = "Truncated BPTT: backpropagates through windows of k steps only, forgetting credit beyond them."
    reference = "Williams & Peng 1990, Neural Comput 2:490"
    exact = False
    approximates = ("autograd of the task loss with the network state detached every `window` steps "
                    "(non-overlapping windows, E-BPTT); equals BPTT when window ≥ trial length")
    online = False
    supports = frozenset({"rnn", "lif"})
    config: TBPTTConfig

    def gradients(self, task: Task, trial: Trial) -> tuple[dict[str, torch.Tensor], Pass]:
        params = self.trainable()
        grads = {k: torch.zeros_like(p) for k, p in params.items()}
        k, T = self.config.window, trial.steps
        state = self.arch.init_state(trial.batch)
        acts, outs = [], []
        for start in range(0, T, k):  # Eq. (1)
            stop = min(start + k, T)
            state = detached(state)  # Eq. (2)
            with torch.enable_grad():
                a_w, y_w = [], []
                for x_t in trial.inputs[start:stop]:
                    state = self.arch(x_t, state)
                    a_w.append(self.arch.activity(state))
                    y_w.append(self.arch.readout(state))
                y = torch.stack(y_w)
                eps = task.output_error(y, trial, slice(start, stop))  # ∂L/∂y for this window's steps
                window_grads = torch.autograd.grad(y, list(params.values()), eps, allow_unused=True)  # Eq. (3)
            for (name, _), g in zip(params.items(), window_grads):
                if g is not None:
                    grads[name] += g
            acts.append(torch.stack(a_w).detach())
            outs.append(y.detach())
        activity, outputs = torch.cat(acts), torch.cat(outs)
        return grads, Pass(task.loss(outputs, trial).detach(), outputs, activity)

    def memory(self, batch: int) -> tuple[int, int]:
        """Eq. (4): one window of k steps, fixed."""
        return self.config.window * batch * trajectory_row(self), 0

    def state_bytes(self, batch: int, steps: int) -> int:
        """Eq. (4): min(k, T) steps — base Eq. (3) capped at the trial length when T < k."""
        return min(self.config.window, steps) * batch * trajectory_row(self)

    def work(self, batch: int, steps: int) -> Work:
        """BPTT's count (``engine.rules.base`` Eq. 4) with more operations per step for the windows."""
        return bptt_work(self.arch, batch, steps, calls_per_step=2.6)

"""Real-time recurrent learning (Williams & Zipser 1989): the exact gradient, computed forward in time.

RTRL carries the *influence matrix* M_t = ∂s_t/∂θ [B, S, P] — how every state variable depends on every recurrent
parameter — and updates it at each step with the local derivatives J_t and M̄_t of ``engine.archs.base``:

    M_t = J_t M_{t−1} + M̄_t,        M_0 = 0                                                     (1)
    c_t = ε_t ∂y_t/∂s_t,             ε_t = ∂L/∂y_t   (the credit the output at step t gives the state)  (2)
    ∂L/∂θ = Σ_t c_t M_t                                                                          (3)

Eq. (3) is the same sum as BPTT's Eq. (1), grouped by time of the error instead of time of the parameter use, so
the gradient is exact — and it is ready the moment the trial ends, with nothing of the past stored. The price is M:
for the rnn S = n and P ≈ n², so M holds B·n³ numbers and Eq. (1) costs n⁴ operations per step and trial. That
cost is the lesson; the rule refuses a configuration whose influence matrix would exceed ``max_memory_mb``. The
readout gradients are the exact ones of ``engine.rules.base`` Eq. (2).

State (``engine.rules.base`` Eq. 3) — the influence matrix and the current state, whatever the trial length:

    fixed_bytes = B · S · (P + 1) numbers,      per_step_bytes = 0                                       (4)

The implementation also holds, as its buffer, the next M while Eq. (1) is computed and the immediate influence M̄_t,
2 · B · S · P numbers. Work per update (``engine.rules.base``, ``work``): the product J_t M_{t−1} and Eq. (3) are
2·B·S·P·(S + 1) flops per step, and building M̄_t (rnn Eq. 5, one [B, S, P] block per parameter group), copying it
into M and the norms take about 12 elementwise passes over the B·S·P numbers:

    flops ≈ 2 · T · B · S · P · (S + 1),      elements ≈ 12 · T · B · S · P,      calls ≈ 3 · T            (5)
"""

from __future__ import annotations

import torch
from pydantic import Field

from engine.config import ConfigModel
from engine.rules import RULES
from engine.rules.base import CreditRule, Pass, Work, readout_grads, state_size
from engine.tasks.base import Task
from engine.trial import Trial


#: Most numbers in one column block of J_t M_{t−1} (Eq. 6): 2^18, 1 MiB in float32.
BLOCK = 2**18


def blocks(M: torch.Tensor) -> list[torch.Tensor]:
    """Output buffers for J M in column blocks of at most ``BLOCK`` numbers (Eq. 6), widths summing to P."""
    B, S, P = M.shape
    width = max(1, min(P, BLOCK // (B * S)))
    full, rest = divmod(P, width)
    buf = M.new_empty(B, S, width)
    return [buf] * full + ([M.new_empty(B, S, rest)] if rest else [])


class RTRLConfig(ConfigModel):
    max_memory_mb: float = Field(512.0, gt=0.0, le=65536.0)
    """Largest influence matrix (batch × units × recurrent weights numbers) to hold, in MB; peak use is about 3×."""


@RULES.register("rtrl")
class RTRL(CreditRule):
    Config = RTRLConfig
    description = "Real-time recurrent learning: exact and online, but tracks how every unit depends on every weight."
    reference = "Williams & Zipser 1989, Neural Comput 1:270"
    # Eqs. (1)-(3) only use ``arch.jacobians``, which every architecture has; widen this set as each new
    # architecture is proven against BPTT in the tests.
    supports = frozenset({"rnn"})
    exact = True
    online = True
    config: RTRLConfig

    # -- memory --------------------------------------------------------------------------------------------
    def n_parameters(self) -> int:
        """P: the number of recurrent parameters (the columns of M)."""
        return sum(p.numel() for p in self.arch.recurrent_parameters().values())

    def influence_bytes(self, batch: int) -> int:
        """Size of the influence matrix M for ``batch`` trials: B·S·P numbers (Eq. 1)."""
        return batch * state_size(self.arch) * self.n_parameters() * self.itemsize()

    def check(self, batch: int, steps: int) -> None:
        self.check_memory(batch)

    def check_memory(self, batch: int) -> None:
        """Raise ``ValueError`` if the influence matrix for ``batch`` trials exceeds the budget (call before a run),
        saying what to lower and to what."""
        need = self.influence_bytes(batch)
        budget = self.config.max_memory_mb * 2**20
        if need <= budget:
            return
        n, most_trials = self.arch.n_units, int(budget // (need // batch))
        lower = f"lower the hidden size to {self.largest_hidden(batch, budget)} or fewer"
        if most_trials >= 1:
            lower += f", or the batch to {most_trials} or fewer"
        raise ValueError(
            f"RTRL at {n} hidden units and batch {batch} needs an influence matrix of {need / 2**20:.1f} MiB "
            f"(batch × state × recurrent weights = {batch} × {state_size(self.arch)} × {self.n_parameters()} "
            f"numbers), over its limit of {self.config.max_memory_mb:g} MiB. It tracks how every unit depends on "
            f"every weight, so it grows as n³: {lower}."
        )

    def largest_hidden(self, batch: int, budget: float) -> int:
        """The largest n whose influence matrix (B·n·P(n), P(n) = n·(n + inputs + 1) for the rnn) fits in ``budget``
        bytes, scaling P as the current network's P does (P ∝ n·m)."""
        n, P, S = self.arch.n_units, self.n_parameters(), state_size(self.arch)
        per_unit_cols = P / n - n  # inputs + 1 for the rnn: the columns of a row that do not scale with n
        best = 1
        while True:
            k = best + 1
            size = batch * (S / n * k) * (k * (k + per_unit_cols)) * self.itemsize()
            if size > budget:
                return best
            best = k

    def memory(self, batch: int) -> tuple[int, int]:
        """Eq. (4): M and the current state."""
        return self.influence_bytes(batch) + batch * state_size(self.arch) * self.itemsize(), 0

    def buffer_bytes(self, batch: int, steps: int) -> int:
        """The next influence matrix and M̄_t: 2·B·S·P numbers."""
        return 2 * self.influence_bytes(batch)

    def work(self, batch: int, steps: int) -> Work:
        """Eq. (5)."""
        S, P = state_size(self.arch), self.n_parameters()
        return Work(2.0 * steps * batch * S * P * (S + 1), 12.0 * steps * batch * S * P, 3.0 * steps)

    # -- the forward sweep -----------------------------------------------------------------------------------
    def _advance(self, x_t: torch.Tensor, state: object, M: torch.Tensor, cols: list[tuple[str, int]],
                 buffers: list[torch.Tensor]) -> object:
        """Eq. (1) in place on M [B, S, P]; returns s_t. With the factored M̄ (``Architecture.influence_factors``,
        archs.base Eq. 3) J_t M_{t−1} is computed in column blocks (Eq. 6) into ``buffers`` (:func:`blocks`) and M̄_t
        is added on the diagonals k = i of each parameter group, never built; else from ``jacobians``."""
        B, S, P = M.shape
        factored = self.arch.influence_factors(x_t, state)
        if factored is None:
            J, M_bar = self.arch.jacobians(x_t, state)
            M.copy_(torch.baddbmm(torch.cat([M_bar[k].reshape(B, S, size) for k, size in cols], -1), J, M))
            return self.arch(x_t, state)
        state, J, post, pres = factored
        c0 = 0
        for buf in buffers:  # Eq. (6): J M column block by column block, in place
            block = M[:, :, c0:c0 + buf.shape[-1]]
            block.copy_(torch.bmm(J, block, out=buf))
            c0 += buf.shape[-1]
        masks, c0 = self.arch.grad_masks(), 0
        for name, size in cols:  # M̄_t[k, (k, j)] += c_{t,k} pre_{t,j}
            pre = pres[name]
            diag = M[:, :, c0:c0 + size].view(B, S, S, pre.shape[-1]).diagonal(dim1=1, dim2=2)  # [B, m, S]
            scale = post.unsqueeze(1) * masks[name].T if name in masks else post.unsqueeze(1)
            diag.addcmul_(pre.unsqueeze(-1), scale)
            c0 += size
        return state

    @torch.no_grad()
    def _sweep(self, task: Task, trial: Trial,
               norms: list[torch.Tensor] | None = None) -> tuple[dict[str, torch.Tensor], Pass]:
        """Run the trial forward once through Eqs. (1)-(3); optionally record ‖M_t[b, k, :]‖ per state variable."""
        B = trial.batch
        self.check_memory(B)  # before anything is allocated
        params = self.arch.recurrent_parameters()
        state = self.arch.init_state(B)
        x0 = trial.inputs[0]
        S, P = state_size(self.arch), self.n_parameters()
        M = x0.new_zeros(B, S, P)
        g = x0.new_zeros(P)
        cols = [(k, p.numel()) for k, p in params.items()]
        buffers = blocks(M)
        # Every array of the sweep is allocated before it starts: no per-step allocation survives a step, so the
        # allocator reuses the same memory at every step and the peak does not grow with T (besides these three).
        T, O = trial.steps, self.arch.n_outputs
        activity, outputs, errors = x0.new_empty(T, B, self.arch.n_units), x0.new_empty(T, B, O), x0.new_empty(T, B, O)
        for t, x_t in enumerate(trial.inputs):
            state = self._advance(x_t, state, M, cols, buffers)  # Eq. (1)
            y = torch.addmm(self.arch.b_out, self.arch.activity(state), self.arch.W_out.T, out=outputs[t])
            eps = errors[t].copy_(task.output_error(y, trial, t))
            g.addmv_(M.view(B * S, P).T, self.arch.readout_credit(state, eps).reshape(B * S))  # Eqs. (2)-(3)
            activity[t] = self.arch.activity(state)
            if norms is not None:
                norms.append(M.norm(dim=-1))
        grads = {k: piece.view_as(p) for (k, p), piece in zip(params.items(), g.split([n for _, n in cols]))}
        grads.update(readout_grads(errors, activity))
        return grads, Pass(task.loss(outputs, trial), outputs, activity)

    def gradients(self, task: Task, trial: Trial) -> tuple[dict[str, torch.Tensor], Pass]:
        return self._sweep(task, trial)

    def signals(self, task: Task, trial: Trial) -> dict[str, torch.Tensor]:
        """``influence_norm`` [T, S]: how strongly each state variable depends on the recurrent weights, ‖M_t[k,:]‖."""
        norms: list[torch.Tensor] = []
        self._sweep(task, trial, norms)
        return {"influence_norm": torch.stack(norms)[:, 0]}

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

How Eq. (1) is computed (``_factored``, for an architecture with the factored M̄ of archs.base Eq. 3, such as the
rnn): the network runs K steps ahead without a graph (``influence_factors``: J_t, c_t and pre_t for the K steps at
once), the output errors and credits of Eq. (2) for those steps come in closed form in one go, and then per step

    M ← J_t M (one batched product, into a second M, or in place block by block),   M[b, k, (k, j)] += c_{t,k} pre_{t,j},
    g += c_t M                                                                                              (6)

— M̄_t is never built, only its B·S·m non-zero entries (the diagonal k = i of M's [S, S, m] view) are added.
``_stepwise`` does Eq. (1) as written from ``arch.jacobians``, for any architecture. The implementation's buffer:
the second M when M has at most ``BLOCK`` numbers, else one block of that size, plus the K steps' J (at most
``BLOCK`` numbers). Work per update (``engine.rules.base``, ``work``): the product J_t M_{t−1} and Eq. (3) are
2·B·S·P·(S + 1) flops per step, plus a copy of M (block by block) and the norms, about 3 elementwise passes:

    flops ≈ 2 · T · B · S · P · (S + 1),      elements ≈ 3 · T · B · S · P,      calls ≈ 3 · T            (5)
"""

from __future__ import annotations

import torch
from pydantic import Field

from engine.archs.base import Factors
from engine.config import ConfigModel
from engine.rules import RULES
from engine.rules.base import CreditRule, Pass, Work, readout_grads, state_size
from engine.tasks.base import Task
from engine.trial import Trial


#: Most numbers in one column block of J_t M_{t−1} (Eq. 6): 2^18, 1 MiB in float32; an M no larger than this is
#: updated into a second copy of itself instead.
BLOCK = 2**18
#: Steps of the network the factored sweep runs ahead of the influence matrix (Eq. 6).
CHUNK = 16


def blocks(M: torch.Tensor) -> list[tuple[slice, slice, torch.Tensor]]:
    """Pieces of M [B, S, P] of at most ``BLOCK`` numbers for Eq. (6), each (trials, columns, output buffer): whole
    trials while one trial's S·P numbers fit (contiguous, so each product is a full-width matrix product), else
    column blocks of one trial. The buffers of equal shape are one tensor."""
    B, S, P = M.shape
    if S * P <= BLOCK:
        per = min(B, BLOCK // (S * P))
        pieces = [(slice(b, min(b + per, B)), slice(0, P)) for b in range(0, B, per)]
    else:
        width = max(1, BLOCK // S)
        pieces = [(slice(b, b + 1), slice(c, min(c + width, P))) for b in range(B) for c in range(0, P, width)]
    buffers: dict[tuple[int, int], torch.Tensor] = {}
    out = []
    for trials, cols in pieces:
        shape = (trials.stop - trials.start, cols.stop - cols.start)
        if shape not in buffers:
            buffers[shape] = M.new_empty(shape[0], S, shape[1])
        out.append((trials, cols, buffers[shape]))
    return out


class RTRLConfig(ConfigModel):
    max_memory_mb: float = Field(512.0, gt=0.0, le=65536.0)
    """Largest influence matrix (batch × units × recurrent weights numbers) to hold, in MB; peak use is about 1.3×."""


@RULES.register("rtrl")
class RTRL(CreditRule):
    Config = RTRLConfig
    description = "Real-time recurrent learning: exact and online, but tracks how every unit depends on every weight."
    reference = "Williams & Zipser 1989, Neural Comput 1:270"
    needs = frozenset({"differentiable_step", "jacobians"})  # Eqs. (1)-(3) use ``arch.jacobians``
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
        """The largest n whose influence matrix B·S(n)·P(n) fits in ``budget`` bytes, with S ∝ n and P(n) = a·n² + b·n:
        a = the number of [n, n] recurrent matrices (1 for the rnn, 3 for a GRU), b·n the rest (input weights and
        biases), both read off the current network."""
        n, P, S = self.arch.n_units, self.n_parameters(), state_size(self.arch)
        a = sum(1 for p in self.arch.recurrent_parameters().values() if p.shape == (n, n))
        b = (P - a * n * n) / n
        best = 1
        while True:
            k = best + 1
            size = batch * (S / n * k) * (a * k * k + b * k) * self.itemsize()
            if size > budget:
                return best
            best = k

    def memory(self, batch: int) -> tuple[int, int]:
        """Eq. (4): M and the current state."""
        return self.influence_bytes(batch) + batch * state_size(self.arch) * self.itemsize(), 0

    def buffer_bytes(self, batch: int, steps: int) -> int:
        """Eq. (6)'s buffers: the second M (or one block of ``BLOCK`` numbers) and K steps of J."""
        S, item = state_size(self.arch), self.itemsize()
        chunk = max(1, min(CHUNK, steps, BLOCK // (batch * S * S)))
        return min(self.influence_bytes(batch), BLOCK * item) + chunk * batch * S * S * item

    def work(self, batch: int, steps: int) -> Work:
        """Eq. (5)."""
        S, P = state_size(self.arch), self.n_parameters()
        return Work(2.0 * steps * batch * S * P * (S + 1), 3.0 * steps * batch * S * P, 3.0 * steps)

    # -- the forward sweep -----------------------------------------------------------------------------------
    @torch.no_grad()
    def _sweep(self, task: Task, trial: Trial,
               norms: list[torch.Tensor] | None = None) -> tuple[dict[str, torch.Tensor], Pass]:
        """Run the trial forward once through Eqs. (1)-(3); optionally record ‖M_t[b, k, :]‖ per state variable.
        Every array is allocated before the first step, so the peak does not grow with T beyond the Pass."""
        B, T, O = trial.batch, trial.steps, self.arch.n_outputs
        self.check_memory(B)  # before anything is allocated
        x0 = trial.inputs[0]
        M = x0.new_zeros(B, state_size(self.arch), self.n_parameters())
        out = x0.new_empty(T, B, self.arch.n_units), x0.new_empty(T, B, O), x0.new_empty(T, B, O)
        state = self.arch.init_state(B)
        first = self.arch.influence_factors(trial.inputs[:max(1, min(CHUNK, BLOCK // (B * M.shape[1] ** 2)))], state)
        if first is None:
            grads = self._stepwise(task, trial, state, M, out, norms)
        else:
            grads = self._factored(task, trial, first, M, out, norms)
        activity, outputs, errors = out
        grads.update(readout_grads(errors, activity))
        return grads, Pass(task.loss(outputs, trial), outputs, activity)

    def _stepwise(self, task: Task, trial: Trial, state: object, M: torch.Tensor, out: tuple[torch.Tensor, ...],
                  norms: list[torch.Tensor] | None) -> dict[str, torch.Tensor]:
        """Eqs. (1)-(3) step by step from ``arch.jacobians`` (any architecture); M's columns in parameter order."""
        B, S, P = M.shape
        params = self.arch.recurrent_parameters()
        cols = [(k, p.numel()) for k, p in params.items()]
        activity, outputs, errors = out
        g = M.new_zeros(P)
        for t, x_t in enumerate(trial.inputs):
            J, M_bar = self.arch.jacobians(x_t, state)
            M.copy_(torch.baddbmm(torch.cat([M_bar[k].reshape(B, S, size) for k, size in cols], -1), J, M))  # (1)
            state = self.arch(x_t, state)
            y = outputs[t].copy_(self.arch.readout(state))
            eps = errors[t].copy_(task.output_error(y, trial, t))
            g.addmv_(M.view(B * S, P).T, self.arch.readout_credit(state, eps).reshape(B * S))  # Eqs. (2)-(3)
            activity[t] = self.arch.activity(state)
            if norms is not None:
                norms.append(M.norm(dim=-1))
        return {k: piece.view_as(p) for (k, p), piece in zip(params.items(), g.split([n for _, n in cols]))}

    def _factored(self, task: Task, trial: Trial, factors: Factors, M: torch.Tensor,
                  out: tuple[torch.Tensor, ...], norms: list[torch.Tensor] | None) -> dict[str, torch.Tensor]:
        """Eqs. (1)-(3) with the factored M̄ of archs.base Eq. (3), ``CHUNK`` steps of the network at a time (Eq. 6):
        M's columns are the [S, m] parameter matrix row by row, M̄_t is added on its diagonal entries k = i, and
        J_t M_{t−1} goes into a second M (ping-pong) or, past ``BLOCK`` numbers, in column blocks copied back."""
        B, S, P = M.shape
        activity, outputs, errors = out
        g = M.new_zeros(P)
        other = M.new_empty(M.shape) if M.numel() <= BLOCK else None
        spans = [] if other is not None else [(trials, M[trials, :, cols], buf) for trials, cols, buf in blocks(M)]
        chunk = max(1, min(CHUNK, BLOCK // (B * S * S)))  # the chunk's J [K, B, S, S] within BLOCK numbers too

        def views(A: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            """The diagonal entries M[b, k, (k, j)] as [B, m, S], and M as [P, B·S] for Eq. (3)."""
            return A.view(B, S, S, P // S).diagonal(dim1=1, dim2=2), A.view(B * S, P).T

        here, there = views(M), (views(other) if other is not None else None)
        t0 = 0
        while True:
            steps = slice(t0, t0 + factors.J.shape[0])
            y = outputs[steps].copy_(self.arch.readout(factors.states))
            eps = errors[steps].copy_(task.output_error(y, trial, steps))
            credit = self.arch.readout_credit(factors.states, eps).reshape(-1, B * S)  # Eq. (2)
            activity[steps] = self.arch.activity(factors.states)
            pre, post = factors.pre.unsqueeze(-1), factors.post.unsqueeze(-2)
            for k in range(factors.J.shape[0]):
                if other is not None:  # Eq. (1): J M into the other buffer, then swap
                    torch.bmm(factors.J[k], M, out=other)
                    M, other, here, there = other, M, there, here
                else:
                    J = factors.J[k]
                    for trials, block, buf in spans:  # Eq. (6): block by block, in place
                        block.copy_(torch.bmm(J[trials], block, out=buf))
                here[0].addcmul_(pre[k], post[k])  # + M̄_t on the diagonal entries
                g.addmv_(here[1], credit[k])  # Eq. (3)
                if norms is not None:
                    norms.append(M.norm(dim=-1))
            t0 = steps.stop
            if t0 >= trial.steps:
                break
            factors = self.arch.influence_factors(trial.inputs[t0:t0 + chunk], factors.state)
        params, masks = self.arch.recurrent_parameters(), self.arch.grad_masks()
        pieces = g.view(S, P // S).split(list(factors.columns.values()), dim=1)
        grads = {name: piece.reshape(params[name].shape) for name, piece in zip(factors.columns, pieces)}
        return {k: v * masks[k] if k in masks else v for k, v in grads.items()}

    def gradients(self, task: Task, trial: Trial) -> tuple[dict[str, torch.Tensor], Pass]:
        return self._sweep(task, trial)

    def signals(self, task: Task, trial: Trial) -> dict[str, torch.Tensor]:
        """``influence_norm`` [T, S]: how strongly each state variable depends on the recurrent weights, ‖M_t[k,:]‖."""
        norms: list[torch.Tensor] = []
        self._sweep(task, trial, norms)
        return {"influence_norm": torch.stack(norms)[:, 0]}

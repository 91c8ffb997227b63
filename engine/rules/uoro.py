"""Unbiased online recurrent optimisation, UORO (Tallec & Ollivier 2018, ICLR): RTRL's influence matrix replaced by a
random rank-one estimate that is right on average.

RTRL (``engine.rules.rtrl``) carries M_t = ∂s_t/∂θ [S, P] per trial, M_t = J_t M_{t−1} + M̄_t. UORO carries two
vectors s̃_t [S] and θ̃_t [P] with E_ν[s̃_t θ̃_tᵀ] = M_t, updated with fresh random signs ν_t ∈ {−1, +1}^S:

    s̃_t = ρ₀ J_t s̃_{t−1} + ρ₁ ν_t                                                                      (1)
    θ̃_t = θ̃_{t−1}/ρ₀ + (ν_tᵀ M̄_t)/ρ₁                                                                   (2)
    ρ₀ = √(‖θ̃_{t−1}‖ / ‖J_t s̃_{t−1}‖),     ρ₁ = √(‖ν_tᵀ M̄_t‖ / ‖ν_t‖)      (per trial; the variance-minimising
                                                                             scales, each norm plus ``epsilon``) (3)
    ĝ = Σ_b Σ_t (c_t · s̃_t) θ̃_t,     c_t = ε_t ∂y_t/∂s_t (RTRL's Eq. 2)                                     (4)

Unbiasedness: the cross terms of (1)·(2) carry E[ν_t] = 0 or E[ν_t ν_tᵀ] = I, so E[s̃_t θ̃_tᵀ] = J_t E[s̃θ̃ᵀ]_{t−1} +
M̄_t — RTRL's recursion (ρ₀ and ρ₁ cancel in the products; they only balance the two factors' sizes). The rule
averaged over many draws of ν approaches RTRL's gradient (statistical test); a single draw is noisy, and the
noise grows with the network, which is why UORO needs small learning rates.

What the network gives it: J_t s̃ is one forward-mode derivative of the step (``state_jvp``: ``torch.func.jvp`` by
default, closed forms for rnn and gru; no Jacobian is built), and ν_tᵀ M̄_t comes from the unit locals' immediate derivative, row j of each block scaled by ν_j
(archs.base Eq. 6; for rnn and gru that is all of M̄). The readout gets its exact gradient.

State (``engine.rules.base`` Eq. 3): s̃ and the state, B·2S numbers, and θ̃, B·P numbers — as much as e-prop's
traces, nothing per step:   fixed_bytes = B·(2S + P),   per_step_bytes = 0.                                  (5)
Work: a forward pass, a jvp (about another) and a few passes over θ̃ per step: flops ≈ 4·T·B·(P + n·O),
elements ≈ 6·T·B·P, calls ≈ 3·T.                                                                          (6)
"""

from __future__ import annotations

import torch
from pydantic import Field

from engine.config import ConfigModel
from engine.rules import RULES
from engine.rules.base import CreditRule, Pass, Work, block_grads, readout_grads, state_size
from engine.rules.traces import TraceConfig
from engine.tasks.base import Task
from engine.trial import Trial


class UOROConfig(ConfigModel):
    epsilon: float = Field(1e-7, gt=0.0, le=1e-2)
    """Added to each norm of Eq. (3), so that the first step (s̃ = θ̃ = 0) stays finite."""
    chunk: int = TraceConfig.model_fields["chunk"].default
    """Steps of the network whose local derivatives are computed at once (speed only; same numbers)."""


@RULES.register("uoro")
class UORO(CreditRule):
    Config = UOROConfig
    description = ("UORO: an unbiased rank-one random estimate of RTRL's influence matrix — cheap, online, "
                   "right on average but noisy.")
    reference = "Tallec & Ollivier 2018, ICLR (Unbiased online recurrent optimization)"
    needs = frozenset({"differentiable_step", "unit_locals"})
    exact = False
    approximates = ("RTRL in expectation over its random signs: E[s̃ θ̃ᵀ] = the influence matrix, so the gradient "
                    "averaged over many draws approaches RTRL's (= BPTT's)")
    online = True
    stochastic = True
    config: UOROConfig

    def gradients(self, task: Task, trial: Trial) -> tuple[dict[str, torch.Tensor], Pass]:
        arch, B, eps_ = self.arch, trial.batch, self.config.epsilon
        dtype = arch.W_out.dtype
        state = arch.init_state(B)
        S = state_size(arch)
        s_t = torch.zeros(B, S, dtype=dtype)
        theta: list[torch.Tensor] | None = None
        grads: list[torch.Tensor] | None = None
        columns: list[dict[str, int]] = []
        acts, outs, errs = [], [], []
        with torch.no_grad():
            for t0 in range(0, trial.steps, self.config.chunk):
                inputs = trial.inputs[t0:t0 + self.config.chunk]
                loc = arch.unit_locals(inputs, state)
                if theta is None:
                    columns = [b.columns for b in loc.blocks]
                    theta = [torch.zeros(B, S, sum(c.values()), dtype=dtype) for c in columns]
                    grads = [torch.zeros(S, sum(c.values()), dtype=dtype) for c in columns]
                for k, x_t in enumerate(inputs):
                    Js = arch.state_jvp(x_t, state, s_t)  # J_t s̃_{t−1}
                    nu = torch.randint(0, 2, (B, S), generator=self.generator).to(dtype).mul_(2).sub_(1)
                    nuM = [b.dense[k] * nu.unsqueeze(-1) if b.dense is not None
                           else (b.post[k] * nu).unsqueeze(-1) * b.pre[k].unsqueeze(-2) for b in loc.blocks]
                    theta_norm = torch.sqrt(sum((th * th).sum((1, 2)) for th in theta))
                    nuM_norm = torch.sqrt(sum((v * v).sum((1, 2)) for v in nuM))
                    rho0 = ((theta_norm + eps_) / (Js.norm(dim=-1) + eps_)).sqrt()  # Eq. (3)
                    rho1 = ((nuM_norm + eps_) / (nu.norm(dim=-1) + eps_)).sqrt()
                    s_t = rho0[:, None] * Js + rho1[:, None] * nu  # Eq. (1)
                    theta = [th / rho0[:, None, None] + v / rho1[:, None, None] for th, v in zip(theta, nuM)]  # (2)
                    state = type(loc.states)(*(f[k] for f in loc.states))
                    y = arch.readout(state)
                    e = task.output_error(y, trial, t0 + k)
                    c = arch.readout_credit(state, e)  # RTRL's Eq. (2)
                    weight = (c * s_t).sum(-1)  # c_t · s̃_t per trial
                    for G, th in zip(grads, theta):
                        G += torch.einsum("b,bsm->sm", weight, th)  # Eq. (4)
                    acts.append(arch.activity(state))
                    outs.append(y)
                    errs.append(e)
        activity, outputs, errors = torch.stack(acts), torch.stack(outs), torch.stack(errs)
        out = block_grads(arch, columns, grads)
        out.update(readout_grads(errors, activity))
        return out, Pass(task.loss(outputs, trial), outputs, activity)

    def memory(self, batch: int) -> tuple[int, int]:
        """Eq. (5)."""
        P = sum(p.numel() for p in self.arch.recurrent_parameters().values())
        return batch * (2 * state_size(self.arch) + P) * self.itemsize(), 0

    def work(self, batch: int, steps: int) -> Work:
        """Eq. (6)."""
        P = sum(p.numel() for p in self.arch.recurrent_parameters().values())
        return Work(4.0 * steps * batch * (P + self.arch.n_units * self.arch.n_outputs), 6.0 * steps * batch * P,
                    3.0 * steps)

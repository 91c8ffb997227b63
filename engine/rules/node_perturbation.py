"""Node perturbation: a reward-modulated three-factor rule (Williams 1992; Fiete & Seung 2006, Phys Rev Lett 97;
Legenstein, Chase, Schwartz & Maass 2010; Miconi 2017, eLife 6:e20899) — the neuromodulator-only end of the
spectrum: no error vector reaches the units, one scalar does.

Each unit's drive receives independent noise, u_t + ξ_t with ξ_{t,j} ~ N(0, σ²) (archs.base capability
"unit_noise"). Each synapse multiplies that noise with its presynaptic factor (for the rnn pre_t = [h_{t−1}; x_t; 1],
rnn Eq. 5) and sums it over the trial — the eligibility, a purely local quantity:

    e_{b,ji} = Σ_t ξ_{t,b,j} pre_{t,b,i}                                                                    (1)

At the end of trial b a global scalar arrives: the reward prediction error, its loss ℓ_b (the trial's own mean
loss, B times its share of ``engine.tasks.base`` Eq. 1) against a running baseline ℓ̄ (the reward is −ℓ):

    δ_b = ℓ_b − ℓ̄,       ĝ_ji = (1/(B σ²)) Σ_b δ_b e_{b,ji}                                                   (2)
    ℓ̄ ← (1 − β) ℓ̄ + β mean_b ℓ_b   after each batch (ℓ̄ starts at the first batch's mean)                   (3)

Why (2) points along the gradient: to first order in σ, ℓ_b(ξ) = ℓ_b(0) + Σ_t ∂ℓ_b/∂u_t · ξ_t, and ℓ̄ does not
depend on this trial's noise, so E_ξ[δ_b ξ_{t,j}]/σ² = ∂ℓ_b/∂u_{t,j}; then Σ_t (∂ℓ_b/∂u_{t,j}) pre_{t,i} = ∂ℓ_b/∂W_ji
(every parameter here enters u linearly with factor pre). So E[ĝ] is the gradient up to O(σ) (the noise also moves
pre) — an unbiased-in-the-limit but very noisy estimate, whose variance grows with the number of units and steps:
that is the lesson. The readout gets its exact gradient on the noisy trial (``engine.rules.base`` Eq. 2).

State (``engine.rules.base`` Eq. 3): the eligibility (B·n·m), the current state and one step's noise (2·B·n), and the
baseline: fixed_bytes = B·(n·m + 2n) + 1 numbers, per_step_bytes = 0.                                       (4)
Work: a forward pass without a graph and Eq. (1) as one product per chunk: flops ≈ 2·T·B·n·(m + O) + 2·T·B·n·m,
calls ≈ 1.2·T.                                                                                             (5)
"""

from __future__ import annotations

import torch
from pydantic import Field

from engine.config import ConfigModel
from engine.rules import RULES
from engine.rules.base import CreditRule, Pass, Work, block_grads, readout_grads
from engine.tasks.base import Task
from engine.trial import Trial

#: Steps whose noise and presynaptic factors are gathered before Eq. (1) takes them in one product.
CHUNK = 32


class NodePerturbationConfig(ConfigModel):
    sigma: float = Field(0.05, gt=0.0, le=2.0)
    """Standard deviation σ of the noise added to every unit's drive at every step."""
    baseline_decay: float = Field(0.1, gt=0.0, le=1.0)
    """β of Eq. (3): how fast the reward baseline follows the recent losses."""


@RULES.register("node_perturbation")
class NodePerturbation(CreditRule):
    Config = NodePerturbationConfig
    description = ("Node perturbation: noise in each unit, a global reward prediction error, eligibility = noise × "
                   "presynaptic activity (a reward-modulated three-factor rule).")
    reference = "Fiete & Seung 2006, Phys Rev Lett 97:048104; Miconi 2017, eLife 6:e20899"
    needs = frozenset({"unit_noise"})
    exact = False
    approximates = ("the gradient in expectation over the noise, to first order in σ: E[(ℓ − ℓ̄) ξ]/σ² = ∂ℓ/∂u, "
                    "so the mean update has a positive cosine with BPTT's gradient")
    online = True
    stochastic = True
    config: NodePerturbationConfig

    def __init__(self, config: NodePerturbationConfig, arch, generator: torch.Generator):  # noqa: ANN001
        super().__init__(config, arch, generator)
        self.baseline = torch.tensor(float("nan"), dtype=torch.float64)  # ℓ̄ of Eq. (3), NaN until the first batch

    def gradients(self, task: Task, trial: Trial) -> tuple[dict[str, torch.Tensor], Pass]:
        arch, B, sigma = self.arch, trial.batch, self.config.sigma
        dtype = arch.W_out.dtype
        state = arch.init_state(B)
        elig: torch.Tensor | None = None
        columns: dict[str, int] = {}
        acts, outs = [], []
        with torch.no_grad():
            for t0 in range(0, trial.steps, CHUNK):
                xis, pres = [], []
                for x_t in trial.inputs[t0:t0 + CHUNK]:
                    pre = arch.presynaptic(x_t, arch.activity(state))
                    columns = {k: v.shape[-1] for k, v in pre.items()}
                    xi = torch.randn(B, arch.n_units, generator=self.generator, dtype=torch.float64).to(dtype) * sigma
                    state = arch(x_t, state, noise=xi)
                    xis.append(xi)
                    pres.append(torch.cat(list(pre.values()), -1))
                    acts.append(arch.activity(state))
                    outs.append(arch.readout(state))
                part = torch.bmm(torch.stack(xis, 2), torch.stack(pres, 1))  # Eq. (1) for the chunk, [B, n, m]
                elig = part if elig is None else elig.add_(part)
            activity, outputs = torch.stack(acts), torch.stack(outs)
            terms = task.step_loss(outputs, trial.targets) * trial.mask
            per_trial = B * terms.sum(0) / trial.mask.sum().clamp_min(1e-12)  # ℓ_b; mean_b ℓ_b = L
            mean = per_trial.mean().to(torch.float64)
            if torch.isnan(self.baseline):
                self.baseline = mean.clone()
            delta = (per_trial - self.baseline.to(dtype)) / (B * sigma ** 2)  # Eq. (2)
            G = torch.einsum("b,bnm->nm", delta, elig)
            beta = self.config.baseline_decay
            self.baseline = (1 - beta) * self.baseline + beta * mean  # Eq. (3)
            grads = block_grads(arch, [columns], [G])
            errors = task.output_error(outputs, trial, slice(None))
            grads.update(readout_grads(errors, activity))
        return grads, Pass(task.loss(outputs, trial), outputs, activity)

    def memory(self, batch: int) -> tuple[int, int]:
        """Eq. (4)."""
        n = self.arch.n_units
        m = sum(p.numel() for p in self.arch.recurrent_parameters().values()) // n
        return (batch * (n * m + 2 * n) + 1) * self.itemsize(), 0

    def buffer_bytes(self, batch: int, steps: int) -> int:
        """The chunk's noise and presynaptic factors: min(CHUNK, T)·B·(n + m) numbers."""
        n = self.arch.n_units
        m = sum(p.numel() for p in self.arch.recurrent_parameters().values()) // n
        return min(CHUNK, steps) * batch * (n + m) * self.itemsize()

    def work(self, batch: int, steps: int) -> Work:
        """Eq. (5)."""
        n, O = self.arch.n_units, self.arch.n_outputs
        m = sum(p.numel() for p in self.arch.recurrent_parameters().values()) // n
        return Work(2.0 * steps * batch * n * (m + O) + 2.0 * steps * batch * n * m, 0.0, 1.2 * steps)

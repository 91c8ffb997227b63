"""SnAp-1 (Menick, Elsen, Evci, Osindero, Simonyan & Graves 2021, ICLR): RTRL with the influence matrix kept only on
its one-step sparsity pattern.

RTRL (``engine.rules.rtrl`` Eqs. 1–3) carries M_t = ∂s_t/∂θ, updated as M_t = J_t M_{t−1} + M̄_t. SnAp-n keeps the
entries M_t[k, θ] of the (state variable, parameter) pairs that θ reaches within n steps and drops the rest at every
step. With n = 1 the pattern is that of the immediate influence M̄: weight W_ji reaches only its own postsynaptic unit
j (archs.base Eq. 6). Masking the RTRL recursion to that pattern,

    M_t = P ⊙ (J_t M_{t−1} + M̄_t),      P[k, (j, i)] = δ_kj                                               (1)

the only surviving term of (J_t M_{t−1})[j, (j, i)] = Σ_k (J_t)_jk M_{t−1}[k, (j, i)] is k = j, so one number per
weight remains, a trace filtered by the diagonal of the *true* Jacobian D_t = (J_t)_jj (archs.base Eq. 5):

    e_t = D_t ⊙ e_{t−1} + ē_t,        ĝ_ji = Σ_b Σ_t c_{t,j} e_{t,ji},      c_t = ε_t ∂y_t/∂s_t                (2)

with the exact credit c_t of RTRL's Eq. (2) (for rnn and gru: c_t = ε_t W_out). Eq. (2) is ``engine.rules.traces``
Eqs. (1)–(2) with D_t in place of e-prop's own-state Jacobian d_t and symmetric feedback: SnAp-1 keeps the
self-connection's contribution to the unit's memory (α φ'(u_j) W_jj in the rnn), which e-prop drops. On a network
whose only recurrence is self-connections (every recurrent matrix diagonal) P drops nothing and SnAp-1 is RTRL —
exact (tested). Cost: like e-prop, one trace per weight (``engine.rules.traces`` Eq. 5 with d = D), B·n·m numbers;
because D_t differs between units and steps the traces run step by step (traces Eqs. 1–2 as written).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from engine.rules import RULES
from engine.rules.traces import EligibilityRule, TraceConfig


class SnAp1Config(TraceConfig):
    feedback: Literal["symmetric"] = "symmetric"
    """The credit of Eq. (2) is the exact one, ε_t W_out (symmetric): SnAp approximates only the influence."""
    max_memory_mb: float = Field(512.0, gt=0.0, le=65536.0)
    """Largest set of traces (batch × units × presynaptic entries numbers) to hold, in MB."""


@RULES.register("snap1")
class SnAp1(EligibilityRule):
    Config = SnAp1Config
    description = ("SnAp-1: RTRL keeping only each weight's influence on its own unit — an eligibility trace "
                   "filtered by the true Jacobian's diagonal (self-connections included).")
    reference = "Menick et al. 2021, ICLR (Practical real time recurrent learning with a sparse approximation)"
    exact = False
    approximates = ("RTRL with the influence matrix masked after every step to the pattern of the immediate "
                    "influence (weight W_ji → unit j only); equals RTRL when the only recurrence is self-connections")
    config: SnAp1Config

    def check(self, batch: int, steps: int) -> None:
        """Refuse traces (B·n·m numbers) over ``max_memory_mb``, naming the limit and what to lower."""
        n, m = self.arch.n_units, self._width()
        need = batch * n * m * self.itemsize()
        budget = self.config.max_memory_mb * 2**20
        if need > budget:
            raise ValueError(
                f"SnAp-1 at {n} hidden units and batch {batch} needs traces of {need / 2**20:.1f} MiB (batch × units "
                f"× presynaptic entries = {batch} × {n} × {m} numbers), over its limit of "
                f"{self.config.max_memory_mb:g} MiB: lower the batch to {max(1, int(budget // (need // batch)))} or "
                f"fewer, or the hidden size.")

    #: Filter the traces by D_t, the diagonal of the full Jacobian (archs.base Eq. 5), not the own-state d_t.
    trace_filter = "diag"

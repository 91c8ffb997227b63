"""e-prop (Bellec et al. 2020, Nat Commun 11:3625), for any network with unit locals (``engine.archs.base``
Eqs. 4–6): the rnn below, a GRU (trace filtered by the update gate, one trace per gate block), any new one.

e-prop factorises the gradient of a recurrent network into a part that can be computed forward in time at each
synapse — the eligibility trace — and a learning signal broadcast from the output:

    e_t = (1 − α) e_{t−1} + α φ'(u_t) ⊗ pre_t           pre_t = h_{t−1} (W_rec), x_t (W_in), 1 (b)       (1)
    L_t = B ε_t,        ε_t = ∂L/∂y_t                                                                    (2)
    ĝ = Σ_b Σ_t L_t ⊙ e_t   (row i of the trace scaled by L_{t,i})                                        (3)

Eqs. (1)–(3) are written for the rnn; in general Eq. (1) is e_t = d_t ⊙ e_{t−1} + ē_t with the network's own-state
Jacobian d_t and immediate derivative ē_t. Eq. (1) is ``engine.rules.traces`` Eq. (1) — the rnn's immediate influence (rnn Eq. 5) filtered by the unit's own
leak — Eq. (2) is ``engine.rules.feedback`` Eq. (1), and Eq. (3) is traces Eq. (2), computed in chunks (traces
Eqs. 3–4). For spiking networks the paper's trace uses the membrane leak and a pseudo-derivative; for rate units the
leak is 1 − α and the pseudo-derivative is φ'. The learning signal here is the instantaneous one (the paper's
version filters the trace with the readout's own time constant because its readout is leaky; our readout is not).

What is approximated: the learning signal carries only the error a unit causes through its *own* readout at the
same step; the future errors it causes through other units (the W_rec paths that BPTT follows) are dropped. With
symmetric feedback, e-prop equals autograd through the trial with the recurrent input W_rec·h_{t−1} of rnn Eq. (1)
detached and the leak term (1 − α)·h_{t−1} of rnn Eq. (2) kept (proven in the tests). The readout gets its exact
gradient (``engine.rules.base`` Eq. 2).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from engine.rules import RULES
from engine.rules.traces import EligibilityRule, TraceConfig


class EpropConfig(TraceConfig):
    feedback: Literal["symmetric", "random", "adaptive"] = "symmetric"
    """How the output error reaches hidden units: W_outᵀ (symmetric), a fixed random matrix (random), or a random
    matrix that receives W_out's updates, both decaying, so that it turns into W_outᵀ (adaptive)."""
    feedback_decay: float = Field(0.01, ge=0.0, le=1.0)
    """Adaptive feedback only: weight decay applied to both the feedback matrix and W_out at every update; the gap
    between them shrinks by this fraction per update."""


@RULES.register("eprop")
class Eprop(EligibilityRule):
    Config = EpropConfig
    description = ("e-prop: eligibility traces at each synapse times an output error broadcast to the units "
                   "(for leaky rate units, e-prop with random feedback is the same algorithm as RFLO).")
    reference = "Bellec et al. 2020, Nat Commun 11:3625"

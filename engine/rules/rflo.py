"""Random-feedback local online learning, RFLO (Murray 2019, eLife 8:e43299).

RFLO starts from RTRL's influence recursion for the leaky rate network,
P_t = [(1 − α) I + α diag(φ'(u_t)) W_rec] P_{t−1} + (immediate term), drops the non-local part α φ' W_rec P (how a
weight affects other units through the recurrent connections), and sends the output error back through a fixed
random matrix B instead of W_outᵀ:

    e_t = (1 − α) e_{t−1} + α φ'(u_t) ⊗ pre_t           pre_t = h_{t−1} (W_rec), x_t (W_in), 1 (b)       (1)
    ĝ = Σ_b Σ_t (B ε_t) ⊙ e_t,         ε_t = ∂L/∂y_t,  B fixed, B_jk ~ N(0, 1/n_out)                     (2)

B has the paper's scale, variance 1/n_out (``engine.rules.feedback`` Eq. 3 with scale "outputs"); e-prop's random
B keeps variance 1/n, the scale of W_out, so the two rules no longer make bit-identical runs.

Honest note: for leaky rate units these are exactly e-prop's equations (``engine.rules.eprop``); the two rules
differ only in their default feedback (random here, symmetric there), as Marschall, Cho & Savin (2020, JMLR 21)
point out. They arrive at the same place from different sides — RFLO by truncating RTRL, e-prop by factorising
BPTT — and differ for spiking units, where e-prop's trace carries the spike pseudo-derivative. Both share the
chunked computation of ``engine.rules.traces`` (Eqs. 3–4 there). With feedback ``symmetric``, RFLO equals autograd
through the trial with the recurrent input W_rec·h_{t−1} detached (leak term kept), as proven in the tests.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from engine.rules import RULES
from engine.rules.feedback import FeedbackScale
from engine.rules.traces import EligibilityRule, TraceConfig


class RFLOConfig(TraceConfig):
    feedback: Literal["random", "symmetric"] = "random"
    """How the output error reaches hidden units: a fixed random matrix (random, as in the paper) or W_outᵀ
    (symmetric, for comparison)."""


@RULES.register("rflo")
class RFLO(EligibilityRule):
    Config = RFLOConfig
    description = ("RFLO: leaky eligibility traces with the output error sent back through fixed random weights "
                   "(for leaky rate units, the same algorithm as e-prop with random feedback).")
    reference = "Murray 2019, eLife 8:e43299"
    feedback_scale: ClassVar[FeedbackScale] = "outputs"  # B ~ N(0, 1/n_out), Eq. (2)

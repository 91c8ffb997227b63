"""Feedback: how the output error reaches the hidden units as a learning signal.

Rules that do not propagate errors backwards through time (e-prop, RFLO) still need to tell each hidden unit how the
current output error concerns it. They broadcast the error ε_t = ∂L/∂y_t [B, O] through a feedback matrix B [n, O]:

    L_t = B ε_t        (per trial: L_{t,j} = Σ_k B_jk ε_{t,k})                                      (1)

Three choices of B (Bellec et al. 2020, Nat Commun 11:3625, "symmetric", "random" and "adaptive" e-prop):

* ``symmetric``  B = W_outᵀ, read afresh every time (the unit's true direct effect on the output);           (2)
* ``random``     B drawn once and never changed, with entries of variance 1/n for e-prop — the scale of W_out at
                 initialisation, as in e-prop's pattern-generation tutorial — and 1/O for RFLO, the scale of
                 Murray 2019 (B ~ N(0, 1/n_out)); ``scale`` says which:                                      (3)

                     B_jk ~ N(0, 1/n)  (scale="hidden"),       B_jk ~ N(0, 1/O)  (scale="outputs")
* ``adaptive``   B starts random; after every update it receives the step W_out just took, transposed, and both
                 decay by a factor (1 − λ):

                     B ← (1 − λ) B + (W_out,new − W_out,old)ᵀ,      W_out ← (1 − λ) W_out,new                  (4)

                 (Bellec et al. 2020, Suppl. Note 2: B and W_out get the same update plus weight decay; the idea
                 of Kolen–Pollack learning, Akrout et al. 2019). The difference B − W_outᵀ then shrinks by (1 − λ)
                 at every update, whatever the steps were, so B turns into W_outᵀ while the random start fades.
                 The decay of W_out is applied here, after the optimizer's step (like decoupled weight decay).

How far B is from the true feedback is worth watching: the *feedback alignment*

    cos(B, W_outᵀ) = ⟨B, W_outᵀ⟩ / (‖B‖ ‖W_out‖)                                                     (5)

is 1 for symmetric feedback, near 0 for a fresh random B, and rises during training for adaptive feedback (and,
often, for random feedback too: W_out tends to align with a fixed B, as in Lillicrap et al. 2016).
"""

from __future__ import annotations

from typing import Literal

import torch

from engine.archs.base import Architecture
from engine.metrics import cosine

FeedbackKind = Literal["symmetric", "random", "adaptive"]
FeedbackScale = Literal["hidden", "outputs"]


class Feedback:
    """The feedback matrix of one rule. ``signal`` is Eq. (1); ``before_update`` / ``after_update`` run Eq. (4)."""

    def __init__(self, kind: FeedbackKind, arch: Architecture, generator: torch.Generator, decay: float = 0.0,
                 scale: FeedbackScale = "hidden"):
        self.kind = kind
        self.arch = arch
        self.decay = decay
        self.B: torch.Tensor | None = None
        self._old_W_out: torch.Tensor | None = None
        if kind != "symmetric":  # Eq. (3), also the start of Eq. (4)
            W_out = arch.W_out
            n, O = W_out.shape[1], W_out.shape[0]
            fan = n if scale == "hidden" else O  # Eq. (3)
            draw = torch.randn(n, O, generator=generator, dtype=torch.float64) / fan ** 0.5
            self.B = draw.to(dtype=W_out.dtype, device=W_out.device)

    def matrix(self) -> torch.Tensor:
        """The current B [n, O] (Eq. 2 or the stored matrix), detached."""
        if self.B is None:
            return self.arch.W_out.detach().T
        return self.B

    def signal(self, errors: torch.Tensor) -> torch.Tensor:
        """Eq. (1): learning signals [..., n] from output errors [..., O]."""
        return errors @ self.matrix().T

    def alignment(self) -> float | None:
        """Eq. (5), the cosine between B and W_outᵀ (``None`` if either is zero)."""
        return cosine(self.matrix(), self.arch.W_out.detach().T)

    def before_update(self) -> None:
        """Remember W_out just before the optimizer steps, so that Eq. (4) can use the step it takes."""
        if self.kind == "adaptive":
            self._old_W_out = self.arch.W_out.detach().clone()

    def after_update(self) -> None:
        """Eq. (4) for adaptive feedback; nothing for the other kinds."""
        if self.kind != "adaptive" or self._old_W_out is None or self.B is None:
            return
        W_out = self.arch.W_out
        step = W_out.detach() - self._old_W_out
        self.B = (1 - self.decay) * self.B + step.T
        with torch.no_grad():
            W_out.mul_(1 - self.decay)
        self._old_W_out = None

    def state_bytes(self) -> int:
        """B itself when it is stored (not per trial)."""
        return 0 if self.B is None else self.B.numel() * self.B.element_size()

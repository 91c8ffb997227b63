"""The leaky rate RNN (e.g. Song, Yang & Wang 2016; Murray 2019; Marschall et al. 2020).

    u_t = W_rec h_{t−1} + W_in x_t + b                                     (1)
    h_t = (1 − α) h_{t−1} + α φ(u_t)                                        (2)
    y_t = W_out h_t + b_out                                                 (3)

with α = dt/τ and the initial state

    h_0 = h0 · 1   (every unit starts at the same rate ``h0``; 0 by default, Murray 2019 uses 0.1)   (0)

a setting of the network, not of a rule, so every rule of a comparison starts from the same h_0. With h_0 = 0 and
zero input the first steps have pre_t = 0 for W_rec, so an eligibility trace of W_rec starts at exactly zero. W_rec is multiplied by a fixed 0/1 mask when ``density`` < 1 (absent synapses stay absent). With
``gain`` g, W_rec starts with entries of variance g²/(n·density), so its spectral radius is about g: a random fixed
reservoir is one rule away (``readout``), and g > 1 gives chaotic spontaneous activity.

Dale's law (``dale``): the first n_E = round(f·n) units are excitatory and the rest inhibitory (f = ``excitatory``,
with at least one unit of each type); every outgoing recurrent weight of unit j has its sign σ_j (+1 for E, −1 for
I). W_rec starts as |w_ij| σ_j with the inhibitory columns scaled by n_E/n_I, so each unit's expected recurrent input
is balanced, and after every update the weights that crossed zero are set to zero (projection onto the allowed
signs, Song, Yang & Wang 2016 use a rectified parametrisation instead):

    W_rec,ij ← W_rec,ij · [σ_j W_rec,ij ≥ 0]                                                               (10)

The credit rules see W_rec itself, so every gradient (and every oracle) is unchanged; only the update is projected.

Local derivatives used by the online rules (δ is Kronecker's delta, pre_t = [h_{t−1}; x_t; 1]):

    J_t = ∂h_t/∂h_{t−1} = (1 − α) I + α diag(φ'(u_t)) W_rec                 (4)
    M̄_t[k, (i, j)] = ∂h_{t,k}/∂W_ij = δ_ki α φ'(u_{t,i}) pre_{t,j}          (5)

A whole trial (``run``, what BPTT and the plots use) is Eqs. (1)–(3) regrouped so that each step issues two
operations: with W = W_rec ⊙ mask formed once per trial (W_rec itself at density 1, where the mask is all ones)
and the input drive of every step in one matrix product,

    D = X W_inᵀ + b   ([T, B, n] for inputs X [T, B, I]),    u_t = D_t + h_{t−1} Wᵀ  (one addmm)        (6)
    h_t = lerp(h_{t−1}, φ(u_t), α) = h_{t−1} + α (φ(u_t) − h_{t−1})                                    (7)
    Y = H W_outᵀ + b_out   on the stacked rates H = [h_1 … h_T]                                         (8)

the same numbers as the step-by-step ``forward`` up to rounding (tested to 1e−12 in float64). A sweep that already
holds f_t = φ(u_t) gets φ'(u_t) without a second pass of φ (``slope``):

    tanh: φ' = 1 − f²,      relu: φ' = [f > 0],      softplus: φ' = σ(u) = 1 − e^{−f}                       (9)

``run`` is one autograd node (:class:`Trial`): its backward is the adjoint of Eqs. (6)–(8) written out, Eqs. (11)–(12)
there, and it keeps only h_t and φ(u_t) per step.
"""

from __future__ import annotations

from typing import Literal, NamedTuple

import torch
from pydantic import Field, ValidationInfo, field_validator
from torch import nn

from engine.archs import ARCHS
from engine.archs.base import Architecture, Block, Factors, UnitLocals
from engine.config import ConfigModel


class RNNState(NamedTuple):
    h: torch.Tensor
    """Rates h_t [B, n] (Eq. 2)."""


#: φ, φ'(u), and φ' written in terms of the rate f = φ(u) (Eq. 9), for each nonlinearity.
_PHI = {
    "tanh": (torch.tanh, lambda u: 1 - torch.tanh(u) ** 2, lambda f: 1 - f * f),
    "relu": (torch.relu, lambda u: (u > 0).to(u.dtype), lambda f: (f > 0).to(f.dtype)),
    "softplus": (nn.functional.softplus, torch.sigmoid, lambda f: -torch.expm1(-f)),
}
#: φ applied in place (the fast sweep writes φ(u) where u was).
_PHI_INPLACE = {
    "tanh": torch.tanh_,
    "relu": torch.relu_,
    "softplus": lambda u: u.copy_(nn.functional.softplus(u)),
}


class RNNConfig(ConfigModel):
    hidden: int = Field(32, ge=2, le=1024)
    """Number of recurrent units n."""
    alpha: float = Field(0.1, gt=0.0, le=1.0)
    """Leak α = dt/τ: 1 updates fully each step, small values integrate slowly (longer memory). 0.1 is Murray's
    τ = 10 steps; a task may choose its own default (Add: 0.5)."""
    nonlinearity: Literal["tanh", "relu", "softplus"] = "tanh"
    """Rate function φ of Eq. (2)."""
    gain: float = Field(1.0, ge=0.0, le=5.0)
    """Initial gain g of the recurrent weights (≈ spectral radius). Above 1 the untrained network is chaotic."""
    init: Literal["normal", "orthogonal"] = "normal"
    """How W_rec starts: Gaussian, or a random orthogonal matrix scaled by g."""
    density: float = Field(1.0, gt=0.0, le=1.0)
    """Fraction of recurrent synapses that exist; the rest stay zero for the whole run."""
    input_scale: float = Field(1.0, ge=0.0, le=10.0)
    """Scale of the initial input weights (entries of variance scale²/inputs)."""
    h0: float = Field(0.0, ge=-1.0, le=1.0)
    """Initial rate h_0 of every unit at the start of each trial (Eq. 0); Murray 2019 starts at 0.1."""
    dale: bool = False
    """Dale's law: each unit is excitatory or inhibitory, and all its outgoing recurrent weights keep its sign
    (Eq. 10)."""
    excitatory: float = Field(0.8, gt=0.0, lt=1.0)
    """Dale's law only: fraction of units that are excitatory (cortex: about 0.8); at least one unit of each type."""

    @field_validator("excitatory")
    @classmethod
    def _one_of_each(cls, f: float, info: ValidationInfo) -> float:
        n = info.data.get("hidden")
        if info.data.get("dale") and n is not None and not 1 <= round(f * n) <= n - 1:
            raise ValueError(f"with Dale's law and hidden = {n}, the excitatory fraction {f:g} gives "
                             f"{round(f * n)} excitatory units of {n}; it must give at least one excitatory and one "
                             f"inhibitory unit: between {0.5 / n:.3g} and {1 - 0.5 / n:.3g}")
        return f


@ARCHS.register("rnn")
class RNN(Architecture):
    Config = RNNConfig
    description = "Leaky rate network: h ← (1−α)h + α·φ(W_rec h + W_in x + b), linear readout."
    reference = "Song, Yang & Wang 2016, PLoS Comput Biol; Murray 2019, eLife"
    provides = frozenset({"differentiable_step", "jacobians", "unit_locals", "unit_noise"})
    shown_weights = ("W_rec", "W_in", "W_out")
    config: RNNConfig

    def __init__(self, config: RNNConfig, n_inputs: int, n_outputs: int, generator: torch.Generator,
                 dtype: torch.dtype = torch.float32):
        super().__init__(config, n_inputs, n_outputs)
        n, c = config.hidden, config
        g = generator
        mask = (torch.rand(n, n, generator=g) < c.density).to(dtype) if c.density < 1 else torch.ones(n, n, dtype=dtype)
        if c.init == "orthogonal":
            q, r = torch.linalg.qr(torch.randn(n, n, generator=g, dtype=torch.float64))
            w = (q * torch.sign(torch.diagonal(r))).to(dtype) * c.gain / c.density ** 0.5
        else:
            w = torch.randn(n, n, generator=g, dtype=dtype) * c.gain / (n * c.density) ** 0.5
        self.register_buffer("rec_mask", mask)
        if c.dale:  # Eq. (10): column signs, inhibitory columns scaled to balance the excitatory ones
            n_e = round(c.excitatory * n)
            sign = torch.cat([torch.ones(n_e, dtype=dtype), -torch.ones(n - n_e, dtype=dtype) * n_e / (n - n_e)])
            w = w.abs() * sign
            self.register_buffer("sign", torch.sign(sign))
        self.W_rec = nn.Parameter(w * mask)
        self.W_in = nn.Parameter(torch.randn(n, n_inputs, generator=g, dtype=dtype) * c.input_scale / n_inputs ** 0.5)
        self.b = nn.Parameter(torch.zeros(n, dtype=dtype))
        self.W_out = nn.Parameter(torch.randn(n_outputs, n, generator=g, dtype=dtype) / n ** 0.5)
        self.b_out = nn.Parameter(torch.zeros(n_outputs, dtype=dtype))
        self.phi, self.dphi, self.slope = _PHI[c.nonlinearity]

    @property
    def n_units(self) -> int:
        return self.config.hidden

    @property
    def alpha(self) -> float:
        return self.config.alpha

    def init_state(self, batch: int) -> RNNState:  # Eq. (0)
        return RNNState(torch.full((batch, self.n_units), self.config.h0, dtype=self.W_rec.dtype,
                                   device=self.W_rec.device))

    def recurrent_weights(self, W: torch.Tensor | None = None) -> torch.Tensor:
        """W = W_rec ⊙ mask of Eq. (1); W_rec itself at density 1 (no product, nothing extra in a graph). Given a
        raw matrix ``W`` (e.g. the initial W_rec), the same map applied to it."""
        W = self.W_rec if W is None else W
        return W if self.config.density == 1 else W * self.rec_mask

    def preactivation(self, x_t: torch.Tensor, h_prev: torch.Tensor) -> torch.Tensor:  # Eq. (1)
        return h_prev @ self.recurrent_weights().T + x_t @ self.W_in.T + self.b

    def forward(self, x_t: torch.Tensor, state: RNNState, presyn: torch.Tensor | None = None,
                noise: torch.Tensor | None = None) -> RNNState:  # Eq. (2)
        """One step; ``presyn`` replaces h_{t−1} in the recurrent input W_rec h_{t−1} (archs.base Eq. 4), and
        ``noise`` ξ_t [B, n] is added to the drive, u_t + ξ_t (capability "unit_noise"; its presynaptic factor is
        ``presynaptic``)."""
        u = self.preactivation(x_t, state.h if presyn is None else presyn)
        if noise is not None:
            u = u + noise
        return RNNState((1 - self.alpha) * state.h + self.alpha * self.phi(u))

    def activity(self, state: RNNState) -> torch.Tensor:
        return state.h

    def run(self, inputs: torch.Tensor, state: RNNState | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """The whole trial by Eqs. (6)–(8) (graph kept): the generic per-step ``Architecture.run``, regrouped, as one
        autograd node whose backward is the adjoint of Eqs. (11)–(12) (:class:`Trial`)."""
        h = (self.init_state(inputs.shape[1]) if state is None else state).h
        return Trial.apply(inputs, h, self.recurrent_weights(), self.W_in, self.b, self.W_out, self.b_out, self)

    def grad_masks(self) -> dict[str, torch.Tensor]:
        return {"W_rec": self.rec_mask} if self.config.density < 1 else {}

    @torch.no_grad()
    def constrain(self) -> None:
        """Eq. (10) under Dale's law: weights whose sign crossed zero become zero."""
        if self.config.dale:
            self.W_rec.mul_((self.W_rec * self.sign >= 0).to(self.W_rec.dtype))

    def presynaptic(self, x_t: torch.Tensor, h_prev: torch.Tensor) -> dict[str, torch.Tensor]:
        """The presynaptic factor of each recurrent parameter group in Eq. (5): h_{t−1}, x_t and 1."""
        return {"W_rec": h_prev, "W_in": x_t, "b": torch.ones_like(h_prev[:, :1])}

    def readout_credit(self, state: RNNState, errors: torch.Tensor) -> torch.Tensor:
        """c = ε ∂y/∂h = ε W_out (Eq. 3): the closed form of the base's vector-Jacobian product (tested)."""
        return errors @ self.W_out.detach()

    def _sweep(self, inputs: torch.Tensor, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """K steps of Eqs. (6)–(7) from rates h without a graph, each pre-activation computed once and φ(u) written
        where u was: the rates h_0 … h_K [K + 1, B, n], c_t = α φ'(u_t) [K, B, n] with φ' taken from φ(u) (Eq. 9),
        and pre_t = [h_{t−1}; x_t; 1] [K, B, m] of Eq. (5)."""
        K, B, I = inputs.shape
        n, alpha = self.n_units, self.alpha
        W_T = self.recurrent_weights().detach().T
        H = inputs.new_empty(K + 1, B, n)
        H[0] = h
        F = torch.addmm(self.b.detach(), inputs.reshape(K * B, I), self.W_in.detach().T).view(K, B, n)  # Eq. (6)
        phi_ = _PHI_INPLACE[self.config.nonlinearity]
        for s in range(K):
            torch.lerp(H[s], phi_(torch.addmm(F[s], H[s], W_T, out=F[s])), alpha, out=H[s + 1])  # Eqs. (6)–(7)
        pre = torch.cat([H[:-1], inputs, H.new_ones(K, B, 1)], -1)
        if self.config.nonlinearity == "tanh":  # α (1 − f²), Eq. (9), in one pass
            return H, torch.addcmul(F.new_tensor(alpha), F, F, value=-alpha), pre
        return H, self.slope(F).mul_(alpha), pre

    def influence_factors(self, inputs: torch.Tensor, state: RNNState) -> Factors:
        """K steps of Eqs. (6)–(7) without a graph, each pre-activation computed once and φ' taken from φ(u) (Eq. 9),
        with J_t of Eq. (4) for all K steps in one product and the factors of Eq. (5): c_t = α φ'(u_t) and
        pre_t = [h_{t−1}; x_t; 1]."""
        with torch.no_grad():
            W, alpha, n = self.recurrent_weights().detach(), self.alpha, self.n_units
            H, post, pre = self._sweep(inputs, state.h)
            J = post.unsqueeze(-1) * W  # Eq. (4)
            J.diagonal(dim1=-2, dim2=-1).add_(1 - alpha)
            columns = {"W_rec": n, "W_in": self.n_inputs, "b": 1}
            return Factors(RNNState(H[-1]), RNNState(H[1:]), J, post, pre, columns)

    def unit_locals(self, inputs: torch.Tensor, state: RNNState, diag: bool = True) -> UnitLocals:
        """archs.base Eqs. (4)–(6) in closed form: d = 1 − α (the leak: W_rec h_{t−1} is the recurrent input),
        D_t = 1 − α + c_t ⊙ diag(W) (Eq. 4's diagonal; with ``diag`` False it is not computed and left None, for a
        rule that filters by d alone), and one factored block for W_rec, W_in and b, with c_t and pre_t of Eq. (5).
        Fixed masks are not applied (the rule masks the gradient)."""
        with torch.no_grad():
            W, alpha, n = self.recurrent_weights().detach(), self.alpha, self.n_units
            H, post, pre = self._sweep(inputs, state.h)
            D = torch.addcmul(post.new_tensor(1 - alpha), post, torch.diagonal(W)) if diag else None
            block = Block({"W_rec": n, "W_in": self.n_inputs, "b": 1}, post, pre)
            return UnitLocals(RNNState(H[-1]), RNNState(H[1:]), 1.0 - alpha, D, [block])

    def state_jvp(self, x_t: torch.Tensor, prev: RNNState, v: torch.Tensor) -> torch.Tensor:
        """J_t v of Eq. (4) without forming J_t: (1 − α) v + c_t ⊙ (W v)."""
        with torch.no_grad():
            c = self.alpha * self.dphi(self.preactivation(x_t, prev.h))
            return (1 - self.alpha) * v + c * (v @ self.recurrent_weights().T)

    def jacobians(self, x_t: torch.Tensor, prev: RNNState) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Closed forms of Eqs. (4) and (5); equal to the ``torch.func`` default (tested)."""
        h = prev.h.detach()
        u = self.preactivation(x_t, h).detach()
        post = self.alpha * self.dphi(u)  # [B, n]
        n = self.n_units
        eye = torch.eye(n, dtype=h.dtype)
        J = (1 - self.alpha) * eye + post.unsqueeze(-1) * self.recurrent_weights().detach()  # Eq. (4)
        M = {}
        for name, pre in self.presynaptic(x_t, h).items():  # Eq. (5)
            block = eye[None, :, :, None] * (post[:, None, :, None] * pre[:, None, None, :])
            if name == "W_rec":
                block = block * self.rec_mask
            M[name] = block if name != "b" else block.squeeze(-1)
        return J, M


class Trial(torch.autograd.Function):
    """A whole trial of Eqs. (6)–(8) as one autograd node: the forward runs without a graph and keeps only what
    BPTT's state counts (``engine.rules.bptt`` Eq. 2), the rates h_0 … h_T and φ(u_t), T·B·2n numbers; the
    backward is the adjoint recursion written out, with g_t = ∂L/∂h_t (everything h_t reaches) and
    ∂L/∂u_t = g_t ⊙ c_t, c_t = α φ'(u_t) taken from φ(u_t) (Eq. 9):

        g_t = ε_t W_out + ∂L/∂h_t|direct + (1 − α) g_{t+1} + (∂L/∂u_{t+1}) W,     g_{T+1} = 0                  (11)
        ∂L/∂W = Σ_t (∂L/∂u_t)ᵀ h_{t−1},  ∂L/∂W_in = Σ_t (∂L/∂u_t)ᵀ x_t,  ∂L/∂b = Σ_t ∂L/∂u_t,
        ∂L/∂W_out = Σ_t ε_tᵀ h_t,  ∂L/∂b_out = Σ_t ε_t,  ∂L/∂h_0 = g_1 … as (11) one step further           (12)

    with ε_t = ∂L/∂y_t. The sums of (12) are one matrix product each over all T·B rows; ∂L/∂u_t overwrites φ(u_t)
    in place, so the backward needs no second trajectory. Equal to autograd through the per-step loop (tested to
    1e−12 in float64); it can be differentiated once (no double backward, no second backward of the same graph)."""

    @staticmethod
    def forward(ctx, inputs, h0, W, W_in, b, W_out, b_out, net):  # noqa: D102
        T, B, I = inputs.shape
        n, alpha = h0.shape[-1], net.alpha
        H = inputs.new_empty(T + 1, B, n)
        H[0] = h0
        F = torch.addmm(b, inputs.reshape(T * B, I), W_in.T).view(T, B, n)  # Eq. (6)
        phi_, W_T = _PHI_INPLACE[net.config.nonlinearity], W.T
        for s in range(T):
            torch.lerp(H[s], phi_(torch.addmm(F[s], H[s], W_T, out=F[s])), alpha, out=H[s + 1])  # Eqs. (6)–(7)
        Y = torch.addmm(b_out, H[1:].reshape(T * B, n), W_out.T).view(T, B, -1)  # Eq. (8)
        ctx.save_for_backward(inputs, H, F, W, W_in, W_out)
        ctx.net = net
        ctx.set_materialize_grads(False)
        return H[1:], Y

    @staticmethod
    def backward(ctx, dH, dY):  # noqa: D102
        inputs, H, F, W, W_in, W_out = ctx.saved_tensors
        T, B, n = F.shape
        net, alpha = ctx.net, ctx.net.alpha
        if net.config.nonlinearity == "tanh":  # c_t = α (1 − f²) in place of f (Eq. 9)
            C = F.mul_(F).mul_(-alpha).add_(alpha)
        else:
            C = F.copy_(net.slope(F)).mul_(alpha)
        g = H.new_zeros(B, n)
        for t in reversed(range(T)):  # Eq. (11); C[t] becomes ∂L/∂u_t
            if dY is not None:
                g = torch.addmm(g, dY[t], W_out)
            if dH is not None:
                g = g + dH[t]
            du = C[t].mul_(g)
            g = torch.addmm(g, du, W, beta=1 - alpha)
        dU = C.view(T * B, n)
        rows = H[:-1].reshape(T * B, n)
        need = ctx.needs_input_grad
        grads = [dU.mm(W_in).view(T, B, -1) if need[0] else None,  # Eq. (12)
                 g if need[1] else None,
                 dU.T.mm(rows) if need[2] else None,
                 dU.T.mm(inputs.reshape(T * B, -1)) if need[3] else None,
                 dU.sum(0) if need[4] else None]
        if dY is None:
            grads += [torch.zeros_like(W_out) if need[5] else None, None]
        else:
            dYf = dY.reshape(T * B, -1)
            grads += [dYf.T.mm(H[1:].reshape(T * B, n)) if need[5] else None, dYf.sum(0) if need[6] else None]
        return (*grads, None)

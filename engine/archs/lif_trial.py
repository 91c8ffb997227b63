"""A whole trial of the spiking network ``lif`` as one autograd node: the forward pass runs without a graph and the
backward pass is the adjoint recursion of ``engine.archs.lif`` Eqs. (1)–(6), written out by hand.

Autograd on the step-by-step unroll records about 35 operations per step and replays them backwards, each on a
small [B, n] tensor, so at n = 100, T = 1000 the cost is per-operation overhead, not arithmetic. This node keeps
only what the backward pass needs — the spikes z_t and the pseudo-derivative ψ_t (lif Eq. 8, computed for the whole
trial in one vectorised call after the loop) — and runs about 7 operations per step backwards.

With the upstream gradients g^zf_t = ∂L/∂zf_t and g^z_t = ∂L/∂z_t (the regulariser's, lif Eq. 11), the adjoints
λ^x_t = dL/dx_t (every path through later steps included) obey, for t = T … 1 and λ_{T+1} = 0,

    λ^zf_t = g^zf_t + κ λ^zf_{t+1}                                                        (lif Eq. 6)       (1)
    λ^z_t  = g^z_t + (1 − κ) λ^zf_t + Wᵀ λ^v_{t+1} + λ^a_{t+1}                              (Eqs. 1, 3, 6)    (2)
    λ^u_t  = ψ_t λ^z_t                                                                    (Eqs. 4, 8)       (3)
    λ^v_t  = λ^u_t + α λ^v_{t+1}                                                          (Eq. 3)           (4)
    λ^a_t  = −β ⊙ λ^u_t + ρ λ^a_{t+1}                                                     (Eqs. 1, 2)       (5)

(the reset by subtraction carries no gradient, lif Eq. 3's sg; u_t = v_t − β a_t). The parameters' gradients follow:

    ∂L/∂D_t = λ^v_t   (D_t = W_in x̂_t, the input drive),      ∂L/∂W = Σ_t Σ_b λ^v_{t,b} z_{t−1,b}ᵀ          (6)

the second as one product over the whole trial. The forward loop does exactly the operations of ``LIF.step`` in
the same order, so its spikes are bit for bit those of the step-by-step unroll; a float64 test proves the gradients
of Eq. (6) equal autograd's on that unroll. The forward loop (:func:`forward_steps`) also runs a stretch of steps
from a carried state, which is how the spiking e-prop sweeps a trial chunk by chunk (``engine.rules.eprop_lif``).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import torch


def _psi(u: torch.Tensor, free: torch.Tensor | None, v_th: float, gamma: float) -> torch.Tensor:
    """ψ of lif Eq. (8) from u = v − β a (so that v − A = u − v_th) and the non-refractory flags ``free``."""
    psi = torch.sub(u, v_th).abs_().neg_().add_(v_th).clamp_min_(0).mul_(gamma / (v_th * v_th))
    return psi if free is None else psi * free


class Carry(NamedTuple):
    """The network's state between two stretches of steps (no graph)."""

    v: torch.Tensor
    """Membrane potential [B, n]."""
    a: torch.Tensor
    """Adaptation [B, n]."""
    z: torch.Tensor
    """Spikes of the last step [B, n]."""
    zf: torch.Tensor
    """Readout-filtered spikes [B, n]."""
    recent: torch.Tensor
    """Spikes in the last n_ref steps [B, n]: refractory ⇔ recent > 0 (lif Eq. 5's r > 0)."""
    past: torch.Tensor
    """The last n_ref steps' spikes [n_ref, B, n], oldest first."""


def rest(net: Any, batch: int, like: torch.Tensor) -> Carry:
    """The state at the start of a trial."""
    zero = like.new_zeros(batch, net.n_units)
    return Carry(zero, zero, zero, zero, zero, like.new_zeros(net.n_ref, batch, net.n_units))


def forward_steps(net: Any, D: torch.Tensor, W_T: torch.Tensor, carry: Carry
                  ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor | None, Carry]:
    """Spikes Z, filtered spikes ZF, u = v − β a and the non-refractory flags (None without a refractory period),
    each [T, B, n], of T steps with drive D [T, B, n] from ``carry``, no graph, and the state after them; ``net`` is
    the ``LIF`` network (its constants α, ρ, κ, β, n_ref, v_th)."""
    T, B, n = D.shape
    v_th, n_ref = net.config.v_th, net.n_ref
    Zb = D.new_empty(n_ref + T, B, n)  # the carried spikes, then this stretch's
    Zb[:n_ref] = carry.past
    ZF, U = D.new_empty(T, B, n), D.new_empty(T, B, n)
    v, a, z, zf, recent = carry.v, carry.a, carry.z, carry.zf, carry.recent.clone()
    keep = 1 - net.kappa
    for t in range(T):
        a = torch.add(z, a, alpha=net.rho)  # lif Eq. (1)
        leak = torch.add(D[t], v, alpha=net.alpha).sub_(z, alpha=v_th)
        if net.any_adaptive:
            v = torch.addmm(leak, z, W_T)  # lif Eq. (3)
            u = torch.addcmul(v, net.beta, a, value=-1.0, out=U[t])
        else:
            v = u = torch.addmm(leak, z, W_T, out=U[t])
        fire = u > v_th  # lif Eq. (4)
        if n_ref:
            fire.logical_and_(recent == 0)
        z = Zb[n_ref + t].copy_(fire)
        if n_ref:
            recent.add_(z).sub_(Zb[t])  # the window moves on by one step
        zf = torch.lerp(zf, z, keep, out=ZF[t])  # lif Eq. (6)
    free = None
    if n_ref:  # not refractory at t ⇔ no spike in the n_ref steps before (lif Eq. 5)
        free = (Zb.unfold(0, n_ref, 1)[:-1].sum(-1) == 0).to(D.dtype)
    return Zb[n_ref:], ZF, U, free, Carry(v.clone(), a, z, zf, recent, Zb[T:].clone())


class LIFTrial(torch.autograd.Function):
    """(D, W) ↦ (ZF, Z) for a whole trial from rest: forward without a graph, backward by Eqs. (1)–(6)."""

    @staticmethod
    def forward(ctx: Any, D: torch.Tensor, W: torch.Tensor, net: Any) -> tuple[torch.Tensor, torch.Tensor]:  # type: ignore[override]
        Z, ZF, U, free, _ = forward_steps(net, D, W.T, rest(net, D.shape[1], D))
        psi = _psi(U, free, net.config.v_th, net.config.gamma)  # lif Eq. (8), the whole trial at once
        ctx.save_for_backward(W, Z, psi)
        ctx.net = net
        ctx.set_materialize_grads(False)  # no regulariser: no gradient for Z, and none is made up
        return ZF, Z

    @staticmethod
    def backward(ctx: Any, g_zf: torch.Tensor | None, g_z: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor, None]:  # type: ignore[override]
        W, Z, psi = ctx.saved_tensors
        net = ctx.net
        T, B, n = Z.shape
        lam_v_all = torch.empty_like(Z)
        lam_zf, lam_v, lam_a = (Z.new_zeros(B, n) for _ in range(3))
        keep, beta = 1 - net.kappa, net.beta
        for t in range(T - 1, -1, -1):
            if g_zf is not None:
                lam_zf = torch.add(g_zf[t], lam_zf, alpha=net.kappa)  # Eq. (1)
            lam_z = torch.addmm(lam_a, lam_v, W) if t < T - 1 else lam_a.clone()  # Eq. (2), the later steps
            lam_z.add_(lam_zf, alpha=keep)
            if g_z is not None:
                lam_z.add_(g_z[t])
            lam_u = lam_z.mul_(psi[t])  # Eq. (3)
            if net.any_adaptive:
                lam_a = torch.addcmul(lam_a.mul_(net.rho), beta, lam_u, value=-1.0)  # Eq. (5)
            lam_v = torch.add(lam_u, lam_v, alpha=net.alpha, out=lam_v_all[t])  # Eq. (4)
        z_prev = torch.cat([Z.new_zeros(1, B, n), Z[:-1]])
        g_W = lam_v_all.reshape(-1, n).T @ z_prev.reshape(-1, n)  # Eq. (6)
        return lam_v_all, g_W, None

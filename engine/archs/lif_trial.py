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
of Eq. (6) equal autograd's on that unroll.
"""

from __future__ import annotations

from typing import Any

import torch


def _psi(u: torch.Tensor, free: torch.Tensor | None, v_th: float, gamma: float) -> torch.Tensor:
    """ψ of lif Eq. (8) from u = v − β a (so that v − A = u − v_th) and the non-refractory flags ``free``."""
    psi = torch.sub(u, v_th).abs_().neg_().add_(v_th).clamp_min_(0).mul_(gamma / (v_th * v_th))
    return psi if free is None else psi * free


def forward_trial(net: Any, D: torch.Tensor, W_T: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Spikes Z, filtered spikes ZF and u = v − β a (each [T, B, n]) of a trial from rest with drive D [T, B, n], no
    graph; ``net`` is the ``LIF`` network (its constants α, ρ, κ, β, n_ref, v_th)."""
    T, B, n = D.shape
    v_th, n_ref = net.config.v_th, net.n_ref
    Z, ZF, U = D.new_empty(T, B, n), D.new_empty(T, B, n), D.new_empty(T, B, n)
    v, a, z, zf = (D.new_zeros(B, n) for _ in range(4))
    recent = D.new_zeros(B, n)  # spikes in the last n_ref steps: refractory ⇔ recent > 0 (lif Eq. 5's r > 0)
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
        z = Z[t].copy_(fire)
        if n_ref:
            recent.add_(z)
            if t >= n_ref:
                recent.sub_(Z[t - n_ref])
        zf = torch.lerp(zf, z, keep, out=ZF[t])  # lif Eq. (6)
    return Z, ZF, U


class LIFTrial(torch.autograd.Function):
    """(D, W) ↦ (ZF, Z) for a whole trial from rest: forward without a graph, backward by Eqs. (1)–(6)."""

    @staticmethod
    def forward(ctx: Any, D: torch.Tensor, W: torch.Tensor, net: Any) -> tuple[torch.Tensor, torch.Tensor]:  # type: ignore[override]
        Z, ZF, U = forward_trial(net, D, W.T)
        free = None
        if net.n_ref:  # refractory at t ⇔ a spike within the n_ref steps before (lif Eq. 5)
            past = torch.nn.functional.pad(Z, (0, 0, 0, 0, net.n_ref, 0))
            free = (past.unfold(0, net.n_ref, 1)[:-1].sum(-1) == 0).to(Z.dtype)
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

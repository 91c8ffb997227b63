"""A minimal numpy RTRL for the leaky tanh network, batch 1, float64: the yardstick for the engine's RTRL.

Written from the equations (in the style of Marschall, Cho & Savin's vanilla-rtrl, not copied from it). All
recurrent parameters form one matrix W = [W_rec, W_in, b] [n, m], m = n + I + 1, acting on pre_t = [h_{t−1}; x_t; 1];
the influence matrix M [n, n·m] holds ∂h_t/∂W with W flattened row by row. Per step:

    u_t = W pre_t,   f_t = tanh(u_t),   h_t = (1 − α) h_{t−1} + α f_t                                   (1)
    c_t = α (1 − f_t²),   J_t = (1 − α) I + diag(c_t) W_rec                                              (2)
    M_t = J_t M_{t−1} + M̄_t,   M̄_t[k, (i, j)] = δ_ki c_{t,i} pre_{t,j}                                 (3)
    y_t = W_out h_t + b_out,   ε_t = (m_t / N) (softmax(y_t) Σ_k y*_{t,k} − y*_t)   (cross-entropy)       (4)
    ∂L/∂W += (W_outᵀ ε_t)ᵀ M_t,   ∂L/∂W_out += ε_t h_tᵀ,   ∂L/∂b_out += ε_t                              (5)
"""

from __future__ import annotations

import numpy as np


def rtrl_gradients(W_rec: np.ndarray, W_in: np.ndarray, b: np.ndarray, W_out: np.ndarray, b_out: np.ndarray,
                   alpha: float, h0: float, inputs: np.ndarray, targets: np.ndarray, mask: np.ndarray
                   ) -> dict[str, np.ndarray]:
    """Eqs. (1)–(5) over one trial: inputs [T, I], targets [T, O], mask [T] (batch 1). Returns the gradients of
    the masked-mean cross-entropy for W_rec, W_in, b, W_out and b_out."""
    n = W_rec.shape[0]
    W = np.concatenate([W_rec, W_in, b[:, None]], axis=1)
    m = W.shape[1]
    N = max(mask.sum(), 1e-12)
    h = np.full(n, h0)
    M = np.zeros((n, n * m))
    rows = np.arange(n)  # M viewed as [n, n, m]: M̄ of Eq. (3) lives on the entries [k, k, :]
    gW, gW_out, gb_out = np.zeros(n * m), np.zeros_like(W_out), np.zeros_like(b_out)
    eye = np.eye(n)
    for x, target, weight in zip(inputs, targets, mask):
        pre = np.concatenate([h, x, [1.0]])
        f = np.tanh(W @ pre)  # Eq. (1)
        c = alpha * (1 - f * f)  # Eq. (2)
        J = (1 - alpha) * eye + c[:, None] * W_rec
        M = J @ M  # Eq. (3)
        M.reshape(n, n, m)[rows, rows] += c[:, None] * pre[None, :]
        h = (1 - alpha) * h + alpha * f
        y = W_out @ h + b_out  # Eq. (4)
        p = np.exp(y - y.max())
        eps = weight / N * (p / p.sum() * target.sum() - target)
        gW += (W_out.T @ eps) @ M  # Eq. (5)
        gW_out += np.outer(eps, h)
        gb_out += eps
    gW = gW.reshape(n, m)
    return {"W_rec": gW[:, :n], "W_in": gW[:, n:-1], "b": gW[:, -1], "W_out": gW_out, "b_out": gb_out}
